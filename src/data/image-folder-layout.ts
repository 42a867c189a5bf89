import type { SplitName } from '../shared/datasets';
import { badInput } from './errors';
import type { DatasetSource } from './source';
import { baseName, cmp, dirName, isIgnorable, joinRel } from './source-paths';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export interface PlannedImage {
  path: string;
  label: number;
}

export interface FolderLayout {
  classes: string[];
  splits: { name: SplitName; images: PlannedImage[] }[];
}

interface Node {
  files: string[];
  subdirs: Set<string>;
}

const SPLIT_DIRS: SplitName[] = ['train', 'test'];

/**
 * Works out classes and splits from the file tree:
 * - single wrapper folders are skipped ("train/cat/x.jpg" and "data/cat/x.jpg" both give classes under them),
 * - a level holding exactly "train/" and "test/" gives two splits with class folders inside each,
 * - otherwise every sub-folder is a class of the single "train" split.
 * `limit` keeps at most that many images per split, taken round-robin over classes.
 */
export function planImageFolder(source: DatasetSource, limit: number | null): FolderLayout {
  const label = source.label;
  const tree = new Map<string, Node>();
  const node = (d: string): Node => {
    let n = tree.get(d);
    if (!n) {
      n = { files: [], subdirs: new Set() };
      tree.set(d, n);
      if (d !== '') node(dirName(d)).subdirs.add(baseName(d));
    }
    return n;
  };
  node('');
  for (const d of source.dirs) if (!isIgnorable(d)) node(d);
  for (const f of source.files) {
    if (isIgnorable(f.path)) continue;
    node(dirName(f.path)).files.push(f.path);
  }
  const sizeOf = new Map(source.files.map((f) => [f.path, f.size]));
  const anyFiles = source.files.some((f) => !isIgnorable(f.path));
  if (!anyFiles) throw badInput(`${label}: no files found (empty ${source.kind})`);

  let root = '';
  for (;;) {
    const n = tree.get(root)!;
    if (n.files.length > 0 || n.subdirs.size !== 1) break;
    const only = joinRel(root, [...n.subdirs][0]);
    if (tree.get(only)!.subdirs.size === 0) break; // the only folder holds files: it is a class
    root = only;
  }
  const top = tree.get(root)!;
  const shown = (p: string): string => (p === '' ? 'the top level' : `${p}/`);
  if (top.files.length > 0) {
    throw badInput(
      `${label}: ${top.files[0]} is not inside a class folder; put images in one sub-folder per class (${shown(root)} holds files directly)`,
    );
  }
  const subNames = [...top.subdirs].sort(cmp);
  const splitNames = subNames.filter((s) => SPLIT_DIRS.includes(s as SplitName));
  const splitDirs: { name: SplitName; dir: string }[] = [];
  const others = subNames.filter((s) => !splitNames.includes(s));
  if (splitNames.length === 2 && others.length === 0) {
    for (const s of SPLIT_DIRS) splitDirs.push({ name: s, dir: joinRel(root, s) });
  } else if (splitNames.length > 0 && splitNames.some((s) => tree.get(joinRel(root, s))!.subdirs.size > 0)) {
    // e.g. train/<classes> beside test-less class folders: neither two splits nor one set of classes.
    throw badInput(
      `${label}: ${shown(root)} mixes split folders (${splitNames.map((s) => s + '/').join(', ')}) with ` +
        (others.length > 0 ? `other folders (${others.map((s) => s + '/').join(', ')})` : 'a missing train/ or test/') +
        '; use train/ and test/ with class folders inside, or class folders only',
    );
  } else {
    splitDirs.push({ name: 'train', dir: root });
  }

  const classesBySplit = new Map<SplitName, string[]>();
  for (const { name, dir } of splitDirs) {
    const n = tree.get(dir)!;
    if (n.files.length > 0) {
      throw badInput(`${label}: ${n.files[0]} sits directly in ${shown(dir)}; images must be in one sub-folder per class inside it`);
    }
    const cls = [...n.subdirs].sort(cmp);
    for (const c of cls) {
      const cdir = joinRel(dir, c);
      const cn = tree.get(cdir)!;
      if (cn.subdirs.size > 0) {
        throw badInput(`${label}: class folder ${cdir}/ contains a sub-folder ${[...cn.subdirs][0]}/; expected images only`);
      }
      if (cn.files.length === 0) throw badInput(`${label}: class folder ${cdir}/ has no images`);
      for (const f of cn.files) {
        const lower = f.toLowerCase();
        if (!IMAGE_EXTENSIONS.some((e) => lower.endsWith(e))) {
          throw badInput(`${label}: ${f} is not a PNG or JPEG image (expected ${IMAGE_EXTENSIONS.join(', ')})`);
        }
        if ((sizeOf.get(f) ?? 0) === 0) throw badInput(`${label}: ${f} is empty (0 bytes)`);
      }
    }
    const lower = new Map<string, string>();
    for (const c of cls) {
      const prev = lower.get(c.toLowerCase());
      if (prev !== undefined) throw badInput(`${label}: class folders ${prev}/ and ${c}/ in ${shown(dir)} differ only in letter case (duplicate names)`);
      lower.set(c.toLowerCase(), c);
    }
    classesBySplit.set(name, cls);
  }

  const classes = classesBySplit.get('train')!;
  if (classes.length < 2) {
    const where = splitDirs[0].dir;
    throw badInput(
      classes.length === 0
        ? `${label}: ${shown(where)} has no class folders`
        : `${label}: found only one class folder (${joinRel(where, classes[0])}/); a classification dataset needs at least 2`,
    );
  }
  const testClasses = classesBySplit.get('test');
  if (testClasses) {
    const extra = testClasses.filter((c) => !classes.includes(c));
    if (extra.length > 0) throw badInput(`${label}: test/ has class folders that train/ lacks: ${extra.join(', ')}`);
  }

  const splits = splitDirs.map(({ name, dir }) => {
    const perClass = classes.map((c) => {
      const n = tree.get(joinRel(dir, c));
      return n ? [...n.files].sort(cmp) : [];
    });
    return { name, images: pick(perClass, limit) };
  });
  return { classes, splits };
}

/** All images in (class, name) order, or a class-balanced round-robin subset of `limit`. */
function pick(perClass: string[][], limit: number | null): PlannedImage[] {
  const keep = perClass.map((files) => (limit === null ? files.length : 0));
  if (limit !== null) {
    let left = limit;
    let progressed = true;
    for (let round = 0; left > 0 && progressed; round++) {
      progressed = false;
      for (let c = 0; c < perClass.length && left > 0; c++) {
        if (round < perClass[c].length) {
          keep[c]++;
          left--;
          progressed = true;
        }
      }
    }
  }
  const out: PlannedImage[] = [];
  perClass.forEach((files, label) => {
    for (let i = 0; i < keep[label]; i++) out.push({ path: files[i], label });
  });
  return out;
}
