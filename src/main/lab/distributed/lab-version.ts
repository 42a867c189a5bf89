import { version } from '../../../../package.json';

/** This lab's version: a coordinator and a worker of different versions do not share shards. */
export const LAB_VERSION: string = version;
