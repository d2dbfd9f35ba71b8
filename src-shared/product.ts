/** The product's name, as people see it: window titles, the keychain, authenticator apps, pushes. */
export const APP_NAME = 'Twofold Backup';
