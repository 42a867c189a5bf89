import { fab } from '../fab';
import { defineRunner } from './define';

export default defineRunner('fab', ({ grad, x, y, s, common }) => fab(grad, x, y, { ...common, targeted: false, nIter: s.nIter }));
