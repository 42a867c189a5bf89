import { fgsm } from '../fgsm';
import { defineRunner } from './define';

export default defineRunner('fgsm', ({ grad, x, y, common }) => fgsm(grad, x, y, common));
