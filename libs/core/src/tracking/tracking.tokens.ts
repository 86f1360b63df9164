/** Injects this process's `TrackingOptions` (from `ChronicleModule.forRoot({ tracking })`). */
export const TRACKING_OPTIONS = Symbol('chronicle:tracking-options');

/** Injects the `ConsumerCollections` port (the app's `Documents`), where consumers' document collections are made. */
export const CONSUMER_COLLECTIONS = Symbol('chronicle:consumer-collections');
