#!/usr/bin/env python3
# Issue 20, item 3: which CPU inference path pays for the teacher's forward pass
# (the teacher-output cache fill), measured on the PyTorch peers' networks
# (../shared/peers: kd_vs_pytorch's cnn teacher, the resnet peer's resnet56),
# one thread, chunks of 128 as predictLogits runs them. Run by hand:
#   /usr/bin/python3 bench/teacher_forward_variants.py [PEERS_DIR] [ROUNDS]
import sys, time
import torch, torch.nn as nn

peers = sys.argv[1] if len(sys.argv) > 1 else "../shared/peers"
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
sys.path.insert(0, peers)
sys.argv = sys.argv[:1]
from pytorch_kd import Teacher  # noqa: E402
from pytorch_kd_resnet import ResNet  # noqa: E402

torch.set_num_threads(1)


def flops_per_sample(model, shape):  # 2 x multiply-adds of convolutions and linear layers
    total = [0]

    def hook(m, _inp, out):
        if isinstance(m, nn.Conv2d):
            total[0] += 2 * out[0].numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total[0] += 2 * m.in_features * m.out_features
    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model.eval()(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    return total[0]


def variants(make, sample):
    cl = torch.channels_last
    eager = make().eval()
    frozen = torch.jit.freeze(torch.jit.trace(make().eval(), sample))
    optimized = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(make().eval(), sample)))
    from torch.utils import mkldnn
    onednn = mkldnn.to_mkldnn(make().eval())
    return {
        "eager (today's path)": lambda x: eager(x),
        "channels-last weights and input": (lambda m: lambda x: m(x.contiguous(memory_format=cl)))(
            make().eval().to(memory_format=cl)),
        "frozen (jit.freeze)": lambda x: frozen(x),
        "frozen + optimize_for_inference": lambda x: optimized(x),
        "to_mkldnn module": lambda x: onednn(x.to_mkldnn()).to_dense(),
    }


def main():
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    for _ in range(3):
        a @ b
    t = time.perf_counter()
    for _ in range(50):
        a @ b
    mm = 50 * 2 * 512 ** 3 / (time.perf_counter() - t) / 1e9
    print(f"matmul 512x512 fp32, one thread: {mm:.1f} GFLOP/s; torch {torch.__version__}")
    for name, make, n in (("cnn[32,64]fc256", Teacher, 4096), ("resnet56", lambda: ResNet(56), 512)):
        x = torch.randn(n, 1, 28, 28)
        f = flops_per_sample(make(), (1, 28, 28))
        rates = {}
        with torch.no_grad():
            vs = variants(make, x[:128])
            for fn in vs.values():
                fn(x[:128])
            for _ in range(rounds):  # alternating, so a changing load falls on all alike
                for k, fn in vs.items():
                    t = time.perf_counter()
                    for i in range(0, n, 128):
                        fn(x[i:i + 128])
                    rates.setdefault(k, []).append(n * f / (time.perf_counter() - t) / 1e9)
        base = sorted(rates["eager (today's path)"])[rounds // 2]
        print(f"{name}: {f / 1e6:.1f} MFLOP/sample")
        for k, v in rates.items():
            med = sorted(v)[rounds // 2]
            print(f"  {k:34s} {med:6.1f} GFLOP/s  x{med / base:.2f}  {100 * med / mm:3.0f}% of the matmul")


if __name__ == "__main__":
    main()
