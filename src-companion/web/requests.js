/* global document, setInterval, clearInterval, setTimeout, clearTimeout */
/**
 * Requests on screen, one card each: what asks, the number choices and a "Time left" countdown
 * while it can be answered; then a finished state that says how it ended (nothing left to
 * press), and after a few seconds the list goes back to waiting.
 */
import { shortDigest } from '../../src-shared/digest.ts';
import { formatWait } from '../../src-shared/wait.ts';
import { ANSWERED, CLOSED, EXPIRED, notSentText, OUTCOME_OF_DECISION } from './messages.js';

/** How long a finished request stays on screen. */
export const FINISHED_MS = 6000;

const $ = (id) => document.getElementById(id);
const cards = new Map(); // txId -> Card

function fill(li, request) {
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
}

class Card {
  constructor(incoming) {
    this.request = incoming.request;
    this.incoming = incoming;
    this.li = $('request-template').content.firstElementChild.cloneNode(true);
    this.buttons = [];
    this.sent = null; // the outcome this device's answer asks for
    this.ended = false;
    this.removal = null;
    fill(this.li, this.request);
    this.addButtons();
    this.timer = setInterval(() => this.tick(), 1000);
    this.tick();
  }

  addButtons() {
    for (const n of this.request.choices) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = String(n);
      b.setAttribute('aria-label', `Approve with ${n}`);
      b.addEventListener('click', () => void this.answer('approve', n));
      this.li.querySelector('.choices').append(b);
      this.buttons.push(b);
    }
    const deny = this.li.querySelector('.r-deny');
    const notMe = this.li.querySelector('.r-notme');
    deny.addEventListener('click', () => void this.answer('deny', null));
    notMe.addEventListener('click', () => void this.answer('not-me', null));
    this.buttons.push(deny, notMe);
  }

  tick() {
    const left = this.request.expiresAt - Date.now();
    if (left <= 0) return this.finish(EXPIRED);
    this.li.querySelector('.r-left').textContent = formatWait(left);
  }

  async answer(decision, number) {
    if (this.ended) return;
    // Read before the pressed button is disabled, which may drop the focus to the page.
    const hadFocus = this.li.contains(document.activeElement);
    this.buttons.forEach((b) => (b.disabled = true));
    try {
      await this.incoming.answer(decision, number);
      this.sent = OUTCOME_OF_DECISION[decision];
      this.finish(ANSWERED[decision](number), hadFocus);
    } catch (error) {
      this.finish(notSentText(error), hadFocus);
    }
  }

  /** The computer closed the request; it says how it ended unless this device's answer already did. */
  closed(outcome) {
    if (this.ended && this.sent === outcome) return;
    if (this.ended && this.sent === null && outcome === 'expired') return;
    this.finish(CLOSED[outcome] ?? CLOSED.cancelled);
  }

  /** Freeze the card in its end state: no countdown, no buttons; then take it away. */
  finish({ state, tone, detail }, hadFocus = this.li.contains(document.activeElement)) {
    this.ended = true;
    clearInterval(this.timer);
    this.buttons.forEach((b) => (b.disabled = true));
    this.li.classList.add('finished');
    this.li.querySelector('.r-answer').hidden = true;
    this.li.querySelector('.r-left-row').hidden = true;
    const result = this.li.querySelector('.r-result');
    const badge = result.querySelector('.r-state');
    badge.textContent = state;
    badge.className = `r-state badge ${tone}`;
    result.querySelector('.r-detail').textContent = detail;
    result.hidden = false;
    if (hadFocus) focusHeading();
    clearTimeout(this.removal);
    this.removal = setTimeout(() => this.remove(), FINISHED_MS);
  }

  remove() {
    const hadFocus = this.li.contains(document.activeElement);
    this.li.remove();
    cards.delete(this.request.txId);
    $('no-requests').hidden = cards.size > 0;
    if (hadFocus) focusHeading();
  }
}

/** The buttons that held the focus are gone: the focus goes to the list's heading, not to the page's end. */
function focusHeading() {
  const heading = $('requests-title');
  heading.tabIndex = -1;
  heading.focus();
}

export function showRequest(incoming) {
  const card = new Card(incoming);
  cards.set(incoming.request.txId, card);
  $('request-list').prepend(card.li);
  $('no-requests').hidden = true;
  card.li.querySelector('.choices button')?.focus();
}

export function closeRequest(txId, outcome) {
  cards.get(txId)?.closed(outcome);
}
