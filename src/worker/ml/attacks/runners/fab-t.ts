import { fab } from '../fab';
import { defineRunner } from './define';

export default defineRunner('fab-t', ({ grad, x, y, s, common }) => fab(grad, x, y, { ...common, targeted: true, nIter: s.nIter, nTargetClasses: s.nTargetClasses }));
