/** Whether the jobs tray is open: shared, so a dialog that starts a job can show it. */
export const tray = $state({ open: false });
