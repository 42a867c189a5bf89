import { apgd } from '../apgd';
import { defineRunner } from './define';

export default defineRunner('apgd-dlr', ({ grad, x, y, s, common }) => apgd(grad, x, y, { ...common, loss: 'dlr', nIter: s.nIter, nRestarts: s.apgdRestarts }));
