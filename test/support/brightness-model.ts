import * as tf from '@tensorflow/tfjs';

/** A classifier with a known answer: class 1 when an image's mean brightness is above 0.5. */
export const BRIGHTNESS = {
  numClasses: 2,
  logits: (x: tf.Tensor4D) =>
    tf.tidy(() => {
      const m = tf.mean(x, [1, 2, 3]).sub(0.5).mul(100) as tf.Tensor1D;
      return tf.stack([m.neg(), m], 1) as tf.Tensor2D;
    }),
};
