/* global indexedDB */
/** IndexedDB: one store, pairings keyed by device id; CryptoKeys are stored as they are (non-extractable). */

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

export const loadPairings = () => tx('readonly', (s) => s.getAll());
export const savePairing = (record) => tx('readwrite', (s) => s.put(record));
