import { pgd } from '../pgd';
import { defineRunner } from './define';

export default defineRunner('pgd', ({ grad, x, y, common }) => pgd(grad, x, y, common));
