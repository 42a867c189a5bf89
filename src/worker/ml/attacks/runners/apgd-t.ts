import { apgdTargeted } from '../apgd-t';
import { defineRunner } from './define';

export default defineRunner('apgd-t', ({ grad, x, y, s, common }) => apgdTargeted(grad, x, y, { ...common, nIter: s.nIter, nTargetClasses: s.nTargetClasses }));
