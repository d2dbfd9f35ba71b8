/* global document, window, indexedDB, location, history, WebSocket, URL, setInterval, clearInterval */
/**
 * The web companion: the DOM around the shared protocol implementation (src-shared/push).
 * Keys are made on this device and kept as non-extractable CryptoKeys in IndexedDB; the OTP seed
 * is kept beside them. Plain JS (built by vite with the TS it imports), so the page needs no
 * framework and the relay can serve it under a strict CSP.
 */
import { shortDigest } from '../../src-shared/digest.ts';
import { currentOtp, listen, pair } from '../../src-shared/push/companion.ts';
import { formatComparisonCode, parsePairingLink } from '../../src-shared/push/pairing.ts';
import { newSigningKeyPair } from '../../src-shared/push/suite.ts';

const $ = (id) => document.getElementById(id);
const socket = (url) => new WebSocket(url);

// ---- IndexedDB: one store, pairings keyed by device id; CryptoKeys are stored as they are.
function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open('twofold-companion', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('pairings', { keyPath: 'deviceId' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const t = db.transaction('pairings', mode);
    const result = fn(t.objectStore('pairings'));
    t.oncomplete = () => resolve(result.result);
    t.onerror = () => reject(t.error);
  });
}

const loadPairings = () => tx('readonly', (s) => s.getAll());
const savePairing = (record) => tx('readwrite', (s) => s.put(record));

// ---- requests on screen
let listener = null;
const cards = new Map(); // txId -> { li, timer }

function showRequest(incoming) {
  const { request } = incoming;
  const li = $('request-template').content.firstElementChild.cloneNode(true);
  li.dataset.txId = request.txId;
  li.querySelector('.r-action').textContent = request.confirm ? request.confirm.title : request.action;
  if (request.confirm) {
    // What the computer does once this is approved, and the check code its dialog shows too.
    li.querySelector('.r-confirm').hidden = false;
    li.querySelector('.r-consequence').textContent = request.confirm.consequence;
    li.querySelector('.r-digest').textContent = shortDigest(request.confirm.digest);
  }
  li.querySelector('.r-account').textContent = request.account;
  li.querySelector('.r-workstation').textContent = request.workstation;
  li.querySelector('.r-app').textContent = `${request.app} ${request.appVersion}`;
  li.querySelector('.r-ip').textContent = request.ip;
  li.querySelector('.r-time').textContent = new Date(request.time).toLocaleTimeString();
  const left = li.querySelector('.r-left');
  const buttons = [];
  const result = li.querySelector('.r-result');
  const finish = (text) => {
    buttons.forEach((b) => (b.disabled = true));
    clearInterval(entry.timer);
    result.textContent = text;
  };
  const answer = async (decision, number, text) => {
    buttons.forEach((b) => (b.disabled = true));
    try {
      await incoming.answer(decision, number);
      finish(text);
    } catch (error) {
      result.textContent = `Could not answer: ${error.message}`;
    }
  };
  for (const n of request.choices) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = String(n);
    b.setAttribute('aria-label', `Approve with ${n}`);
    b.addEventListener('click', () => void answer('approve', n, `Approved with ${n}.`));
    li.querySelector('.choices').append(b);
    buttons.push(b);
  }
  const deny = li.querySelector('.r-deny');
  const notMe = li.querySelector('.r-notme');
  deny.addEventListener('click', () => void answer('deny', null, 'Denied.'));
  notMe.addEventListener('click', () => void answer('not-me', null, 'Reported. Push is paused on the computer for 20 minutes.'));
  buttons.push(deny, notMe);
  const tick = () => {
    const s = Math.max(0, Math.round((request.expiresAt - Date.now()) / 1000));
    left.textContent = `${s} s`;
    if (s === 0) finish('Expired.');
  };
  const entry = { li, timer: setInterval(tick, 1000) };
  tick();
  cards.set(request.txId, entry);
  $('request-list').prepend(li);
  $('no-requests').hidden = true;
  li.querySelector('.choices button')?.focus();
}

/** The computer closed the request: it can no longer be answered; the card says how it ended. */
function closeRequest(txId, outcome) {
  const entry = cards.get(txId);
  if (!entry) return;
  clearInterval(entry.timer);
  entry.li.querySelectorAll('button').forEach((b) => (b.disabled = true));
  entry.li.classList.add('closed');
  const result = entry.li.querySelector('.r-result');
  if (!result.textContent) result.textContent = `Closed on the computer: ${outcome}.`;
}

// ---- pairings and one-time passwords
function showPairings(pairings) {
  const list = $('pairing-list');
  list.replaceChildren();
  $('no-pairings').hidden = pairings.length > 0;
  for (const p of pairings) {
    const li = $('pairing-template').content.firstElementChild.cloneNode(true);
    li.querySelector('.p-name').textContent = p.name;
    li.querySelector('.p-account').textContent = p.account;
    li.querySelector('.p-workstation').textContent = p.workstation;
    const code = li.querySelector('.p-code');
    const left = li.querySelector('.p-code-left');
    let timer = null;
    li.querySelector('.p-otp').addEventListener('click', (event) => {
      const showing = !code.hidden;
      code.hidden = left.hidden = showing;
      event.currentTarget.textContent = showing ? 'Show one-time password' : 'Hide one-time password';
      clearInterval(timer);
      if (showing) return;
      const tick = () => {
        const now = Date.now();
        code.textContent = currentOtp(p, now);
        left.textContent = `${30 - (Math.floor(now / 1000) % 30)} s left`;
      };
      tick();
      timer = setInterval(tick, 1000);
    });
    list.append(li);
  }
}

async function startListening() {
  listener?.stop();
  const pairings = await loadPairings();
  showPairings(pairings);
  if (pairings.length === 0) {
    $('connection').textContent = 'Not paired.';
    return;
  }
  listener = listen(pairings, {
    socket,
    onRequest: showRequest,
    onClosed: closeRequest,
    onUnsupported: (p, version) => {
      $('connection').textContent =
        `A request from ${p.account} on ${p.workstation} was refused: it uses request format ${version}, which this page does not speak. ` +
        'Update Twofold Backup and reload this page; meanwhile use the one-time password.';
    },
    onState: (_p, state) => {
      $('connection').textContent = state === 'ready' ? 'Connected: waiting for requests.' : 'Connecting to the relay…';
    },
  });
}

// ---- pairing from the QR link
async function offerPairing() {
  let payload;
  try {
    payload = parsePairingLink(location.hash);
  } catch (error) {
    $('pair').hidden = false;
    $('pair-start').hidden = true;
    $('pair-result').textContent = error.message;
    return;
  }
  $('pair').hidden = false;
  $('pair-who').textContent = `${payload.account} on ${payload.workstation} wants to add this device for push approval.`;
  // What this page is trusted with, and what only carries ciphertext.
  $('pair-trust').textContent = `This page comes from ${location.origin}. Messages go through the relay at ${new URL(payload.relay).host}, which sees only encrypted data.`;
  $('pair-start').addEventListener('click', async () => {
    $('pair-start').disabled = true;
    $('pair-result').textContent = '';
    try {
      // Made here, never extractable: the private key cannot leave this browser.
      const device = await newSigningKeyPair(false);
      const record = await pair({
        link: location.href,
        socket,
        device,
        extractableKeys: false,
        onCode: (code) => {
          $('pair-code').textContent = formatComparisonCode(code);
          $('pair-code-box').hidden = false;
        },
        // Paired only once the computer says it added this device (pair-result), never before.
      });
      await savePairing(record);
      history.replaceState(null, '', location.pathname); // the link is spent; keep it out of history
      $('pair-code-box').hidden = true;
      $('pair-start').hidden = true;
      $('pair-result').textContent = `Paired as "${record.name}" with ${record.account} on ${record.workstation}.`;
      await startListening();
    } catch (error) {
      $('pair-code-box').hidden = true;
      $('pair-result').textContent = `Pairing failed: ${error.message}`;
      $('pair-start').disabled = false;
    }
  });
}

$('check-pending').addEventListener('click', () => listener?.checkPending());
window.addEventListener('pageshow', () => listener?.checkPending());

if (location.hash.includes('pair=')) void offerPairing();
void startListening();
