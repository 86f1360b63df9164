/** Injects this process's `TrackingOptions` (from `ChronicleModule.forRoot({ tracking })`). */
export const TRACKING_OPTIONS = Symbol('chronicle:tracking-options');
