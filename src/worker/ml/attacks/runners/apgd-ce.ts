import { apgd } from '../apgd';
import { defineRunner } from './define';

export default defineRunner('apgd-ce', ({ grad, x, y, s, common }) => apgd(grad, x, y, { ...common, loss: 'ce', nIter: s.nIter, nRestarts: s.apgdRestarts }));
