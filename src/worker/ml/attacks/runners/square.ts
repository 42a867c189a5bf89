import { square } from '../square';
import { defineRunner } from './define';

// Black-box: it queries the target itself, never the EOT view of its gradients.
export default defineRunner('square', ({ target, x, y, s, common }) => square(target, x, y, { ...common, nQueries: s.squareQueries }));
