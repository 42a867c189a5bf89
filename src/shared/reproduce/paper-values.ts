/**
 * The paper's numbers that the reproduction puts beside ours, each with where it is printed.
 * Accuracies are fractions (the paper prints percent). Only the paper's own rows: the
 * adversarial-training baselines of Tables 1-2 are other papers' numbers.
 */

export type PaperDataset = 'cifar10' | 'cifar100';

/** Table 1's columns, in its order (clean first, AutoAttack's ensemble last). */
export const TABLE1_COLUMNS = ['clean', 'apgd-ce', 'apgd-t', 'fab-t', 'square', 'aa-standard'] as const;
export type Table1Column = (typeof TABLE1_COLUMNS)[number];

/**
 * Table 1's rows as the reproduction runs them: the paper's model (CE + max(L_F, 0.02)) with
 * Active Defense at outerloop K=1 and the higher K, the plain-CE model with Active Defense, and
 * both models without it (no paper value: the paper does not print them).
 */
export const TABLE1_ROWS = ['fs-ad-k1', 'fs-ad-khigh', 'ce-ad', 'fs-none', 'ce-none'] as const;
export type Table1Row = (typeof TABLE1_ROWS)[number];

type Table1Values = Record<Table1Column, number>;

function pct(row: [number, number, number, number, number, number]): Table1Values {
  const [clean, apgdCe, apgdT, fabT, square, aa] = row.map((v) => v / 100) as typeof row;
  return { clean, 'apgd-ce': apgdCe, 'apgd-t': apgdT, 'fab-t': fabT, square, 'aa-standard': aa };
}

export interface Cited<T> {
  value: T;
  cite: string;
}

/** Table 1 (eps 8/255): "Ours (outerloop = 10)", "Ours (outerloop = 1)" and "Standard (using Active Defense)". */
export const PAPER_TABLE1: Record<PaperDataset, Partial<Record<Table1Row, Cited<Table1Values>>>> = {
  cifar10: {
    'fs-ad-khigh': { value: pct([86.69, 73.71, 77.64, 85.3, 79.03, 68.54]), cite: 'Table 1, CIFAR-10 row 1 (outerloop = 10)' },
    'fs-ad-k1': { value: pct([85.35, 73.1, 74.11, 83.49, 76.73, 62.31]), cite: 'Table 1, CIFAR-10 row 3 (outerloop = 1)' },
    'ce-ad': { value: pct([16.2, 16.13, 15.94, 16.1, 15.79, 7.4]), cite: 'Table 1, CIFAR-10 "Standard (using Active Defense)"' },
  },
  cifar100: {
    'fs-ad-khigh': { value: pct([59.43, 39.36, 44.78, 57.63, 48.92, 33.49]), cite: 'Table 1, CIFAR-100 row 1 (outerloop = 10)' },
    'fs-ad-k1': { value: pct([56.98, 37.9, 42.85, 55.04, 46.8, 28.51]), cite: 'Table 1, CIFAR-100 row 3 (outerloop = 1)' },
    'ce-ad': { value: pct([2.69, 2.54, 2.65, 2.78, 2.56, 1.39]), cite: 'Table 1, CIFAR-100 "Standard (using Active Defense)"' },
  },
};

/** The outerloop of Table 1's first row (the reproduction's "higher K" at the paper's scale). */
export const PAPER_OUTERLOOP_HIGH = 10;

/** Table 2 at eps 16/255: the whole AutoAttack re-run, clean accuracy included ("we rerun the whole AA including clean"). */
export const PAPER_TABLE2_EPS16: Record<PaperDataset, Record<'fs-ad-k1' | 'fs-ad-khigh', Cited<{ clean: number; aa: number }>>> = {
  cifar10: {
    'fs-ad-khigh': { value: { clean: 0.8679, aa: 0.5424 }, cite: 'Table 2, CIFAR-10 eps 16/255 row 1 (outerloop = 10)' },
    'fs-ad-k1': { value: { clean: 0.8521, aa: 0.4924 }, cite: 'Table 2, CIFAR-10 eps 16/255 row 2 (outerloop = 1)' },
  },
  cifar100: {
    'fs-ad-khigh': { value: { clean: 0.5916, aa: 0.2276 }, cite: 'Table 2, CIFAR-100 eps 16/255 row 1 (outerloop = 10)' },
    'fs-ad-k1': { value: { clean: 0.571, aa: 0.1915 }, cite: 'Table 2, CIFAR-100 eps 16/255 row 2 (outerloop = 1)' },
  },
};

/**
 * Table 3: robust accuracy under APGD-CE on CE + lambda * max(L_F, delta) (Eq. 4), one run of
 * Active Defense, at log10(lambda) = -1, -0.25, 0.5, 1.25, 2; the left half negative lambda,
 * the right half positive. The lab's default lambda grid (lambdaGrid(5, 0.1, 100, 'both')) is
 * the same ten values.
 */
export const PAPER_TABLE3_LOG10: readonly number[] = [-1, -0.25, 0.5, 1.25, 2];
export const PAPER_TABLE3: Record<PaperDataset, Cited<{ negative: number[]; positive: number[] }>> = {
  cifar10: { value: { negative: [0.7295, 0.7306, 0.7262, 0.7295, 0.7279], positive: [0.7287, 0.7291, 0.727, 0.7276, 0.7243] }, cite: 'Table 3, CIFAR-10' },
  cifar100: { value: { negative: [0.3772, 0.3806, 0.3802, 0.3732, 0.3772], positive: [0.3779, 0.3769, 0.3766, 0.3764, 0.3732] }, cite: 'Table 3, CIFAR-100' },
};

/** The paper's value at one lambda of Table 3, or null where its grid has none. */
export function paperTable3(dataset: PaperDataset, lambda: number): number | null {
  const i = PAPER_TABLE3_LOG10.findIndex((e) => Math.abs(10 ** e - Math.abs(lambda)) <= 1e-6 * 10 ** e);
  if (i < 0 || lambda === 0) return null;
  const row = PAPER_TABLE3[dataset].value;
  return (lambda < 0 ? row.negative : row.positive)[i] ?? null;
}

/** Sec. 5.1: test accuracy with and without the feature smoothing term, and train/test L_F. */
export const PAPER_SEC51: Record<PaperDataset, Cited<{ cleanFs: number; cleanCe: number; lfTrainFs: number; lfTestFs: number; lfTrainCe: number; lfTestCe: number }>> = {
  cifar10: {
    value: { cleanFs: 0.9502, cleanCe: 0.9583, lfTrainFs: 0.013, lfTestFs: 0.0135, lfTrainCe: 0.0725, lfTestCe: 0.0713 },
    cite: 'Sec. 5.1 ("95.02% vs 95.83% for CIFAR-10"; "0.0130/0.0135 vs 0.0725/0.0713")',
  },
  cifar100: {
    value: { cleanFs: 0.783, cleanCe: 0.7986, lfTrainFs: 0.01258, lfTestFs: 0.013, lfTrainCe: 0.0901, lfTestCe: 0.0909 },
    cite: 'Sec. 5.1 ("78.3% vs 79.86% for CIFAR-100"; "0.01258/0.013 vs 0.0901/0.0909")',
  },
};

/** Sec. 5.2: delta_tilde of the feature-smoothed and of the standard-trained model. */
export const PAPER_DELTA_TILDES: Record<PaperDataset, Cited<{ fs: number; ce: number }>> = {
  cifar10: { value: { fs: 0.0124, ce: 0.0562 }, cite: 'Sec. 5.2 ("0.0124 for CIFAR-10"; standard training "0.0562 for CIFAR-10")' },
  cifar100: { value: { fs: 0.0118, ce: 0.088 }, cite: 'Sec. 5.2 ("0.0118 for CIFAR-100"; standard training "0.0880 for CIFAR-100")' },
};

/** delta of Eq. 2: "In all our experiments, the smoothing upper bound delta in Equation 2 is set to 0.02" (Sec. 5.1). */
export const PAPER_DELTA = 0.02;

/** Which of the paper's datasets a dataset stands for, by its class count (10: CIFAR-10, 100: CIFAR-100); null otherwise. */
export function paperDatasetOf(classes: number): PaperDataset | null {
  return classes === 10 ? 'cifar10' : classes === 100 ? 'cifar100' : null;
}
