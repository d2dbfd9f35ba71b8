/* global document, window, WebSocket */
/**
 * The web companion: the DOM around the shared protocol implementation (src-shared/push).
 * Keys are made on this device and kept as non-extractable CryptoKeys in IndexedDB (store.js);
 * the OTP seed is kept beside them. Plain JS (built by vite with the TS it imports), so the page
 * needs no framework and can be served under a strict CSP.
 */
import { listen } from '../../src-shared/push/companion.ts';
import { CONNECTION, unsupportedText } from './messages.js';
import { handlePairingLinks } from './pairing.js';
import { showPairings } from './pairings.js';
import { closeRequest, showRequest } from './requests.js';
import { loadPairings } from './store.js';

const $ = (id) => document.getElementById(id);
const socket = (url) => new WebSocket(url);
let listener = null;

function setConnection(state, text = CONNECTION[state]) {
  const el = $('connection');
  el.dataset.state = state;
  el.textContent = text;
}

async function startListening() {
  listener?.stop();
  const pairings = await loadPairings();
  showPairings(pairings);
  $('requests').hidden = pairings.length === 0;
  if (pairings.length === 0) {
    setConnection('none');
    return;
  }
  listener = listen(pairings, {
    socket,
    onRequest: (incoming) => {
      $('notice').hidden = true; // "paired" is old news once requests arrive
      showRequest(incoming);
    },
    onClosed: closeRequest,
    onUnsupported: (p, version) => setConnection('unsupported', unsupportedText(p, version)),
    onState: (_p, state) => setConnection(state === 'ready' ? 'ready' : 'connecting'),
  });
}

$('check-pending').addEventListener('click', () => listener?.checkPending());
window.addEventListener('pageshow', () => listener?.checkPending());

handlePairingLinks(startListening);
void startListening();
