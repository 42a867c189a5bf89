import { undefended } from '../../ml/attacks';
import { defineDefense } from './define';

export default defineDefense('none', ({ classifier }) => undefended(classifier));
