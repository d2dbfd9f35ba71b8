/**
 * What the web companion says, in one place, in the desktop's words: it is a "companion" that is
 * paired ("Pair a companion" in Security → Devices), it shows a "code" when push does not get
 * through, and a request ends "Approved", "Denied", "Reported" or "Expired".
 */

export const CONNECTION = {
  starting: 'Starting…',
  none: 'Not paired yet.',
  connecting: 'Connecting to the relay…',
  ready: 'Connected: waiting for requests.',
};

export const unsupportedText = (p, version) =>
  `A request from ${p.account} on ${p.workstation} was refused: it uses request format ${version}, which this page does not speak. ` +
  'Update Twofold Backup and reload this page; meanwhile use the code under Paired computers.';

export const pairWhoText = (payload) => `${payload.account} on ${payload.workstation} wants to add this device as a companion for push approval.`;

export const pairTrustText = (origin, relayHost) =>
  `This page comes from ${origin}. Messages go through the relay at ${relayHost}, which sees only encrypted data.`;

export const pairedText = (record) => `Companion “${record.name}” paired with ${record.account} on ${record.workstation}.`;

export const pairFailedText = (error) => `Pairing failed: ${error.message}`;

export const OTP = {
  show: 'Show code',
  hide: 'Hide code',
  left: (s) => `A new code in ${s} s.`,
};

/** A request's end, as its card shows it: a word in the outcome's colour and a sentence under it. */
export const ANSWERED = {
  approve: (n) => ({ state: 'Approved', tone: 'ok', detail: `You picked ${n}.` }),
  deny: () => ({ state: 'Denied', tone: 'bad', detail: '' }),
  'not-me': () => ({ state: 'Reported', tone: 'bad', detail: 'You reported that this was not you. Push is muted on the computer for 20 minutes.' }),
};

/** What the computer's closing of a request means, when this device did not answer it (or its answer was not taken). */
export const CLOSED = {
  approved: { state: 'Approved', tone: 'ok', detail: 'Approved on another device.' },
  denied: { state: 'Denied', tone: 'bad', detail: 'Denied on another device.' },
  reported: { state: 'Reported', tone: 'bad', detail: 'Reported as “this wasn’t me” on another device. Push is muted on the computer for 20 minutes.' },
  expired: { state: 'Expired', tone: 'neutral', detail: 'No answer arrived in time. Resend the push from Twofold Backup if you still need it.' },
  refused: { state: 'Refused', tone: 'bad', detail: 'The computer refused the answer: it did not match this request (a wrong number?).' },
  cancelled: { state: 'Cancelled', tone: 'neutral', detail: 'The request was cancelled on the computer.' },
};

export const EXPIRED = CLOSED.expired;

export const notSentText = (error) => ({ state: 'Not sent', tone: 'bad', detail: `${error.message}` });

/** The outcome the computer reports for each answer this device gives. */
export const OUTCOME_OF_DECISION = { approve: 'approved', deny: 'denied', 'not-me': 'reported' };
