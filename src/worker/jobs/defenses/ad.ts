import { activeDefensePurifier, trajectoryPurifier } from '../../ml/defense';
import { defineDefense, throughPurifier } from './define';

// Algorithm 1: noise, then descent on L_F until delta_tilde; K = outerloop runs averaged.
export default defineDefense('ad', (ctx) =>
  throughPurifier(ctx, activeDefensePurifier(ctx.model, ctx.ad, ctx.signal), {
    outerloop: ctx.ad.outerloop,
    trajectory: () => trajectoryPurifier(ctx.model, ctx.ad, undefined, ctx.signal),
  }),
);
