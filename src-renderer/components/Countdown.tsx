/** A live "m:ss" countdown from a duration in ms; calls onDone when it reaches zero. */
import { useEffect, useRef, useState } from 'react';

// The format is shared with the web companion's "Time left".
export { formatWait } from '../../src-shared/wait.js';

export function useCountdown(ms: number, onDone?: () => void): number {
  const [left, setLeft] = useState(ms);
  // The callback lives in a ref: a new closure each render must not restart the countdown.
  const done = useRef(onDone);
  done.current = onDone;
  useEffect(() => {
    setLeft(ms);
    if (ms <= 0) return;
    const end = Date.now() + ms;
    const timer = setInterval(() => {
      const remaining = Math.max(0, end - Date.now());
      setLeft(remaining);
      if (remaining === 0) {
        clearInterval(timer);
        done.current?.();
      }
    }, 250);
    return () => clearInterval(timer);
  }, [ms]);
  return left;
}
