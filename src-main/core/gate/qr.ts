/** QR codes for enrolment and pairing links, as PNG (to save or print) and SVG (to show). */
import QRCode from 'qrcode';

// Medium error correction: scans reliably off a screen while keeping the code small.
const OPTIONS = { errorCorrectionLevel: 'M', margin: 4 } as const;

export function qrPng(text: string): Promise<Buffer> {
  return QRCode.toBuffer(text, { ...OPTIONS, type: 'png', scale: 6 });
}

export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { ...OPTIONS, type: 'svg' });
}
