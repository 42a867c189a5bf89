/** The one registry of attacks and defenses (issue #14): ids, labels, kinds, option schemas, cited defaults. */
export * from './cite';
export * from './attacks';
export * from './defenses';
