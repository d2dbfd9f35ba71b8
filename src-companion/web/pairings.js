/* global document, setInterval, clearInterval */
/** The paired computers, each with the code to type into Twofold Backup when push does not get through. */
import { currentOtp } from '../../src-shared/push/companion.ts';
import { OTP } from './messages.js';

const $ = (id) => document.getElementById(id);
const timers = new Set();

function pairingCard(p) {
  const li = $('pairing-template').content.firstElementChild.cloneNode(true);
  li.querySelector('.p-name').textContent = p.name;
  li.querySelector('.p-account').textContent = p.account;
  li.querySelector('.p-workstation').textContent = p.workstation;
  const box = li.querySelector('.p-code-box');
  const code = li.querySelector('.p-code');
  const left = li.querySelector('.p-code-left');
  const toggle = li.querySelector('.p-otp');
  toggle.setAttribute('aria-expanded', 'false');
  let timer = null;
  toggle.addEventListener('click', () => {
    const showing = !box.hidden;
    box.hidden = showing;
    toggle.textContent = showing ? OTP.show : OTP.hide;
    toggle.setAttribute('aria-expanded', String(!showing));
    clearInterval(timer);
    timers.delete(timer);
    if (showing) return;
    const tick = () => {
      const now = Date.now();
      code.textContent = currentOtp(p, now);
      left.textContent = OTP.left(30 - (Math.floor(now / 1000) % 30));
    };
    tick();
    timer = setInterval(tick, 1000);
    timers.add(timer);
  });
  return li;
}

export function showPairings(pairings) {
  timers.forEach((t) => clearInterval(t));
  timers.clear();
  $('pairing-list').replaceChildren(...pairings.map(pairingCard));
  $('no-pairings').hidden = pairings.length > 0;
}
