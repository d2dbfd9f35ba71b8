/* global document, window, location, history, URL */
/**
 * Pairing from the QR code's link: the prompt shows what asks and what this page is trusted with;
 * once the computer added this device, the prompt goes away and a notice says so. A new link
 * opened in a tab already showing the companion (`hashchange`) starts that pairing.
 */
import { pair } from '../../src-shared/push/companion.ts';
import { formatComparisonCode, parsePairingLink } from '../../src-shared/push/pairing.ts';
import { newSigningKeyPair } from '../../src-shared/push/suite.ts';
import { pairedText, pairFailedText, pairTrustText, pairWhoText } from './messages.js';
import { savePairing } from './store.js';

const $ = (id) => document.getElementById(id);
let offer = null; // { link, payload } of the link on screen

function showOffer() {
  $('pair').hidden = false;
  $('pair-code-box').hidden = true;
  $('pair-error').textContent = '';
  let payload;
  try {
    payload = parsePairingLink(location.hash);
  } catch (error) {
    offer = null;
    $('pair-who').textContent = '';
    $('pair-trust').textContent = '';
    $('pair-start').hidden = true;
    $('pair-error').textContent = error.message;
    return;
  }
  offer = { link: location.href, payload };
  $('notice').hidden = true;
  $('pair-who').textContent = pairWhoText(payload);
  // What this page is trusted with, and what only carries ciphertext.
  $('pair-trust').textContent = pairTrustText(location.origin, new URL(payload.relay).host);
  $('pair-start').hidden = false;
  $('pair-start').disabled = false;
  $('pair-title').scrollIntoView?.({ block: 'start' });
}

async function startPairing(onPaired) {
  const current = offer;
  if (!current) return;
  const onScreen = () => offer === current;
  $('pair-start').disabled = true;
  $('pair-error').textContent = '';
  try {
    // Made here, never extractable: the private key cannot leave this browser.
    const device = await newSigningKeyPair(false);
    const record = await pair({
      link: current.link,
      socket: (url) => new window.WebSocket(url),
      device,
      extractableKeys: false,
      onCode: (code) => {
        if (!onScreen()) return;
        $('pair-code').textContent = formatComparisonCode(code);
        $('pair-code-box').hidden = false;
      },
      // Paired only once the computer says it added this device (pair-result), never before.
    });
    await savePairing(record);
    if (onScreen()) {
      offer = null;
      history.replaceState(null, '', location.pathname + location.search); // the link is spent; keep it out of history
      $('pair').hidden = true;
    }
    $('notice').textContent = pairedText(record);
    $('notice').hidden = false;
    await onPaired();
  } catch (error) {
    if (!onScreen()) return;
    $('pair-code-box').hidden = true;
    $('pair-error').textContent = pairFailedText(error);
    $('pair-start').disabled = false;
  }
}

/** Offer the pairing the address names, now and whenever the address changes to another link. */
export function handlePairingLinks(onPaired) {
  $('pair-start').addEventListener('click', () => void startPairing(onPaired));
  const check = () => {
    if (location.hash.includes('pair=')) showOffer();
  };
  window.addEventListener('hashchange', check);
  check();
}
