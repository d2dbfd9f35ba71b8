/** The password of a repository the app creates: random, shown once, kept by the vault. */
import { randomInt } from 'node:crypto';

const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** 30 symbols of 5 bits (150 bits), in groups of five: easy to copy onto paper, hopeless to guess. */
export function newRepositoryPassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 6; g++) {
    let s = '';
    for (let i = 0; i < 5; i++) s += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
    groups.push(s);
  }
  return groups.join('-');
}
