/**
 * The jobs tray, shared: whether it is open (so a dialog that starts a job can show it), and how tall it is now
 * (so the notices stack above it and never hide it or its buttons).
 */
export const tray = $state({ open: false, height: 0 });
