#!/usr/bin/env python3
"""PyTorch reference values for the lab's model families (test/ml/model-families.test.ts).

Writes test/fixtures/models/:
  preactresnet18-names.json   every state_dict tensor of RobustBench's PreActResNet18() (width 64,
                              10 classes): names, shapes and dtypes in state_dict order
  preactresnet18-w8.safetensors  the same architecture at base width 8 (channels 8/16/32/64 instead of
                              64/128/256/512; same names and layout), seeded random weights, with random
                              BN affine parameters and running statistics so eval mode exercises them
  preactresnet18-w8.json      its logits, per-layer L_F (Eq. 3) of F^0..F^3 and one SGD step of
                              CE + max(L_F(F^0), delta) (Eq. 2): loss parts, eval logits after the step
  wrn-10-1-logits.json        eval-mode logits of ../attacks/model.safetensors (the AutoAttack fixture's
                              wrn-10-1) on the same images

The networks are written here from RobustBench's published layouts
(robustbench/model_zoo/architectures/resnet.py: PreActBlock, PreActResNet;
wide_resnet.py: BasicBlock, NetworkBlock, WideResNet), not imported from robustbench.
The inputs are the first 4 records of ../attacks/records.bin (bytes / 255, CHW).

Run from the repository root with Debian's PyTorch (apt-get install python3-torch python3-numpy):
  /usr/bin/python3 scripts/make-model-fixtures.py
Re-running gives the same files (seeded; CPU float32).
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'models')
RECORDS = os.path.join(ROOT, 'test', 'fixtures', 'attacks', 'records.bin')
WRN_WEIGHTS = os.path.join(ROOT, 'test', 'fixtures', 'attacks', 'model.safetensors')
N_IMAGES = 4
WIDTH = 8
SEED = 0
# One training step of the lab's Trainer (paper Sec. 5.1: SGD, momentum 0.9, weight decay 5e-4; Eq. 2 with delta 0.02).
LR, MOMENTUM, WEIGHT_DECAY, DELTA = 0.05, 0.9, 5e-4, 0.02
LABELS = [3, 1, 4, 1]


class PreActBlock(nn.Module):
    """resnet.py PreActBlock: relu(bn1(x)) -> conv1 (stride) -> relu(bn2) -> conv2, plus x or shortcut(x)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False))

    def forward(self, x):
        out = F.relu(self.bn1(x))
        skip = self.shortcut(x) if hasattr(self, 'shortcut') else x
        out = self.conv2(F.relu(self.bn2(self.conv1(out))))
        return out + skip


class PreActResNet(nn.Module):
    """resnet.py PreActResNet(PreActBlock, [2, 2, 2, 2]) (bn_before_fc=False), base width parameterised."""

    def __init__(self, width=64, blocks=(2, 2, 2, 2), num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        cin = width
        for s, n in enumerate(blocks):
            cout = width * 2 ** s
            layers = []
            for b in range(n):
                layers.append(PreActBlock(cin, cout, 2 if (b == 0 and s > 0) else 1))
                cin = cout
            setattr(self, f'layer{s + 1}', nn.Sequential(*layers))
        self.linear = nn.Linear(cin, num_classes)

    def forward(self, x):
        out = self.conv1(x)
        features = []
        for s in range(4):
            out = getattr(self, f'layer{s + 1}')(out)
            features.append(out)
        out = F.avg_pool2d(out, 4).flatten(1)
        return self.linear(out), features


class WrnBlock(nn.Module):
    """wide_resnet.py BasicBlock (dropout 0): the shortcut projects relu(bn1(x)) when widths differ."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.equal = cin == cout
        if not self.equal:
            self.convShortcut = nn.Conv2d(cin, cout, 1, stride, 0, bias=False)

    def forward(self, x):
        o = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(o))))
        return out + (x if self.equal else self.convShortcut(o))


class WrnGroup(nn.Module):
    def __init__(self, n, cin, cout, stride):
        super().__init__()
        self.layer = nn.Sequential(*[WrnBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1) for i in range(n)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth, widen, num_classes=10):
        super().__init__()
        n = (depth - 4) // 6
        w = [16, 16 * widen, 32 * widen, 64 * widen]
        self.conv1 = nn.Conv2d(3, w[0], 3, 1, 1, bias=False)
        self.block1 = WrnGroup(n, w[0], w[1], 1)
        self.block2 = WrnGroup(n, w[1], w[2], 2)
        self.block3 = WrnGroup(n, w[2], w[3], 2)
        self.bn1 = nn.BatchNorm2d(w[3])
        self.fc = nn.Linear(w[3], num_classes)

    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = F.relu(self.bn1(out))
        return self.fc(F.avg_pool2d(out, 8).flatten(1))


def feature_loss(f):
    """Eq. 3 per example: mean |F - mean(F)| over the H x W x C cube."""
    flat = f.flatten(1)
    return (flat - flat.mean(1, keepdim=True)).abs().mean(1)


def read_images(n):
    raw = np.fromfile(RECORDS, dtype=np.uint8).reshape(-1, 1 + 3 * 32 * 32)[:n]
    return torch.from_numpy(raw[:, 1:].reshape(n, 3, 32, 32).astype(np.float32) / 255.0)


def write_safetensors(path, state, metadata):
    header, blobs, offset = {'__metadata__': metadata}, [], 0
    for name, t in state.items():
        arr = t.detach().cpu().numpy()
        dtype = {np.float32: 'F32', np.int64: 'I64'}[arr.dtype.type]
        data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': dtype, 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':'))
    text += ' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text.encode())
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, 'rb') as f:
        (n,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        dt = {'F32': np.float32, 'I64': np.int64}[e['dtype']]
        b, end = e['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype=dt).reshape(e['shape']).copy())
    return out


def randomise_bn(model, g):
    """Non-trivial BN parameters and statistics, so that eval mode's use of each is checked."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=g))
                m.bias.copy_(0.2 * torch.randn(c, generator=g))
                m.running_mean.copy_(0.2 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=g)))


def rows(t):
    return [[float(v) for v in r] for r in t.detach().double().tolist()]


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(SEED)
    g = torch.Generator().manual_seed(SEED)
    x = read_images(N_IMAGES)

    full = PreActResNet(64)
    names = [{'name': k, 'shape': list(v.shape), 'dtype': 'I64' if v.dtype == torch.int64 else 'F32'} for k, v in full.state_dict().items()]
    with open(os.path.join(OUT, 'preactresnet18-names.json'), 'w') as f:
        json.dump({'architecture': 'PreActResNet18() = PreActResNet(PreActBlock, [2, 2, 2, 2]), 10 classes', 'torch': torch.__version__, 'tensors': names}, f, indent=1)

    model = PreActResNet(WIDTH)
    randomise_bn(model, g)
    write_safetensors(os.path.join(OUT, 'preactresnet18-w8.safetensors'), model.state_dict(),
                      {'format': 'pt', 'architecture': f'PreActResNet-18 (base width {WIDTH})', 'num_classes': '10'})

    model.eval()
    with torch.no_grad():
        logits, features = model(x)
    ref = {
        'source': 'scripts/make-model-fixtures.py',
        'torch': torch.__version__,
        'width': WIDTH,
        'records': f'test/fixtures/attacks/records.bin, first {N_IMAGES}',
        'logits': rows(logits),
        'featureShapes': [list(f.shape[1:]) for f in features],
        'lf': [[float(v) for v in feature_loss(f)] for f in features],
    }

    # One step as the lab's Trainer takes it: train-mode BN (running stats updated), Eq. 2 on F^0, torch.optim.SGD.
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    y = torch.tensor(LABELS)
    out, feats = model(x)
    ce = F.cross_entropy(out, y)
    lf = feature_loss(feats[0]).mean()
    loss = ce + torch.clamp(lf, min=DELTA)
    opt.zero_grad()
    loss.backward()
    opt.step()
    model.eval()
    with torch.no_grad():
        after, _ = model(x)
    ref['train'] = {
        'lr': LR, 'momentum': MOMENTUM, 'weightDecay': WEIGHT_DECAY, 'delta': DELTA, 'featureLayer': 0, 'labels': LABELS,
        'loss': float(loss), 'ce': float(ce), 'lf': float(lf),
        'logitsAfter': rows(after),
        'numBatchesTracked': int(model.layer1[0].bn1.num_batches_tracked),
    }
    with open(os.path.join(OUT, 'preactresnet18-w8.json'), 'w') as f:
        json.dump(ref, f, indent=1)

    wrn = WideResNet(10, 1)
    state = read_safetensors(WRN_WEIGHTS)
    wrn.load_state_dict(state)
    wrn.eval()
    with torch.no_grad():
        wl = wrn(x)
    with open(os.path.join(OUT, 'wrn-10-1-logits.json'), 'w') as f:
        json.dump({'source': 'scripts/make-model-fixtures.py', 'torch': torch.__version__, 'weights': 'test/fixtures/attacks/model.safetensors',
                   'records': f'test/fixtures/attacks/records.bin, first {N_IMAGES}', 'logits': rows(wl)}, f, indent=1)


if __name__ == '__main__':
    main()
