import * as tf from '@tensorflow/tfjs';

export interface SgdOptions {
  /** Paper Sec. 5.1 / PyTorch usage: 0.9. */
  momentum: number;
  /** Paper Sec. 5.1: 5e-4, added to the gradient as in torch.optim.SGD. */
  weightDecay: number;
  nesterov: boolean;
}

/**
 * torch.optim.SGD (dampening 0), per parameter p with gradient g:
 *   g = g + wd * p;  buf = momentum * buf + g (buf = g on the first step);
 *   g = nesterov ? g + momentum * buf : buf;  p = p - lr * g.
 * The learning rate is passed per step so any schedule can drive it.
 */
export class Sgd {
  /** Momentum buffers by parameter name; absent until a parameter's first step. */
  readonly buffers = new Map<string, tf.Variable>();

  constructor(readonly options: SgdOptions) {
    if (!(options.momentum >= 0 && options.momentum <= 1)) throw new Error(`momentum must be in [0,1], got ${options.momentum}`);
    if (!(options.weightDecay >= 0)) throw new Error(`weight decay must be >= 0, got ${options.weightDecay}`);
    if (options.nesterov && options.momentum <= 0) throw new Error('Nesterov momentum requires momentum > 0 (as in PyTorch)');
  }

  step(params: { name: string; variable: tf.Variable }[], grads: Record<string, tf.Tensor>, lr: number): void {
    if (!Number.isFinite(lr) || lr < 0) throw new Error(`learning rate must be finite and >= 0, got ${lr}`);
    const { momentum, weightDecay, nesterov } = this.options;
    tf.tidy(() => {
      for (const { name, variable } of params) {
        const grad = grads[name];
        if (!grad) throw new Error(`no gradient for parameter '${name}'`);
        let g: tf.Tensor = weightDecay > 0 ? tf.add(grad, tf.mul(variable, weightDecay)) : grad;
        if (momentum > 0) {
          const buf = this.buffers.get(name);
          if (buf) buf.assign(tf.add(tf.mul(buf, momentum), g));
          else this.buffers.set(name, tf.variable(g, false));
          const b = this.buffers.get(name)!;
          g = nesterov ? tf.add(g, tf.mul(b, momentum)) : b;
        }
        variable.assign(tf.sub(variable, tf.mul(g, lr)));
      }
    });
  }

  /** Restores buffers (e.g. from a checkpoint); replaces any existing ones. */
  setBuffer(name: string, value: tf.Tensor): void {
    this.buffers.get(name)?.dispose();
    this.buffers.set(name, tf.variable(value, false));
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}
