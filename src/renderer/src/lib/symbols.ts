/**
 * The paper's symbols as the lab writes them, each with what it means and where the paper (or,
 * for the attacks a sceptical reviewer adds, the literature) defines it: the help a symbol shows
 * wherever it appears (components/SymbolHelp.vue).
 */
export interface SymbolInfo {
  /** How the symbol is written in the UI. */
  text: string;
  name: string;
  meaning: string;
  /** The paper's section, equation or algorithm step; or the source outside the paper. */
  where: string;
}

export const SYMBOLS = {
  lf: {
    text: 'L_F',
    name: 'feature smoothing loss',
    meaning: 'The mean absolute deviation of the feature map F^l from its own mean, per image: small when the feature cube is smooth (uniform). Training adds it to the cross-entropy; Active Defense descends on it.',
    where: 'Sec. 4, Eq. 3 (in the loss of Eq. 2)',
  },
  fl: {
    text: 'F^l',
    name: 'feature map of layer l',
    meaning: 'The output of group l of the network (WideResNet: l = 0, 1, 2; PreActResNet-18: its stages, l = 0..3), a W x H x C cube; L_F measures its smoothness. The paper uses l = 0, closest to the input.',
    where: 'Sec. 4 and 5',
  },
  delta: {
    text: 'δ',
    name: 'training floor of L_F',
    meaning: 'Training minimises CE + max(L_F, δ): below δ the feature term has no gradient, so the network does not overfit to it. Off (no δ) trains plain cross-entropy.',
    where: 'Sec. 4, Eq. 2; δ = 0.02 in Sec. 5.1',
  },
  deltaTilde: {
    text: 'δ̃',
    name: 'test-time bound of L_F (Active Defense)',
    meaning: 'Active Defense descends until L_F ≤ δ̃, usually below the training δ for extra smoothing. Not δ: δ is a training setting, δ̃ a defense setting.',
    where: 'Algorithm 1; 0.0124 (CIFAR-10), 0.0118 (CIFAR-100) in Sec. 5.2; 0.0562 / 0.0880 for a standard-trained model',
  },
  sigma: {
    text: 'σ',
    name: 'noise of the first step',
    meaning: 'Active Defense first adds uniform noise U(−σ, σ) to the input, so the smoothing has enough to do and an attacker cannot skip it.',
    where: 'Algorithm 1, step 1; σ = 0.075 in Sec. 5.2',
  },
  beta: {
    text: 'β',
    name: 'step size of Active Defense',
    meaning: 'Each step of Active Defense moves the image by β times the gradient of L_F (t = t − β ∇L_F). Sec. 3 uses β for the step of PGD too.',
    where: 'Algorithm 1, step 4; β = 80 in Sec. 5.2',
  },
  outerloop: {
    text: 'K',
    name: 'outerloop',
    meaning: 'Algorithm 1 run K times with independent noise; the K softmax outputs are averaged and the class is their argmax.',
    where: 'Sec. 4 ("outerloop") and 5.2; Table 1 reports K = 1 and K = 10',
  },
  bpda: {
    text: 'BPDA',
    name: 'Backward Pass Differentiable Approximation',
    meaning: 'The attacker differentiates the classifier at the purified point and passes that gradient straight back to the input, as if the purification were the identity. Not part of the paper\'s evaluation: the adaptive attack a reviewer runs against a purifier.',
    where: 'Athalye, Carlini & Wagner 2018 (cited in Sec. 1); "BPDA trajectory" averages it over the descent (Croce et al. 2022)',
  },
  eot: {
    text: 'EOT',
    name: 'Expectation over Transformation',
    meaning: 'The attack averages its gradient over E draws of the defense\'s noise, so a randomised defense cannot hide behind one draw. AutoAttack\'s "rand" version uses 20 draws.',
    where: 'Athalye et al. 2018; AutoAttack autoattack.py:337 (eot_iter = 20)',
  },
  lambda: {
    text: 'λ',
    name: 'weight of L_F in the adaptive attack',
    meaning: 'The paper\'s adaptive attack runs APGD-CE on CE + λ · max(L_F, δ): positive λ pushes the features apart (more work for Active Defense), negative keeps them smooth (fewer iterations).',
    where: 'Sec. 5.3, Eq. 4, Table 3 (λ log-spaced in [0.1, 100], both signs)',
  },
  eps: {
    text: 'ε',
    name: 'attack budget',
    meaning: 'The largest change an attack may make to any pixel (L∞), in pixel units of [0, 1]: 8/255 and 16/255 in the paper.',
    where: 'Sec. 3, Eq. 1; Tables 1–3',
  },
} as const satisfies Record<string, SymbolInfo>;

export type SymbolId = keyof typeof SYMBOLS;

/** One line for a tooltip: "δ̃ (test-time bound of L_F (Active Defense)): ... [Algorithm 1; ...]". */
export function symbolTitle(id: SymbolId): string {
  const s: SymbolInfo = SYMBOLS[id];
  return `${s.text}, ${s.name}: ${s.meaning} [${s.where}]`;
}
