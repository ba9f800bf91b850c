"""Writes python_float_repr.tsv: `repr(x)` of edge-case and seeded random doubles.

Run from this folder: python3 python_float_repr.py
"""
import math
import random
import struct
import sys


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


EDGE = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 3.0, 6.0, 500.0, 1e-05, 1.2345e-05, -1.5e-07, 0.0001,
        0.00012, 1e16, 1e+16, 1e15, 9999999999999998.0, 5e-324, -5e-324,
        1.7976931348623157e+308, -1.7976931348623157e+308, 2.2250738585072014e-308,
        123456789012345680.0, 0.30000000000000004, 2 / 3, 1 / 3, 1.5e300, 1e22, 1e21, 1e-4,
        9.999999999999999e-05, 1e100, 123.456, 0.46613545816733065, 4.35, 1234567890123456.7,
        12345678901234567.0, 2**53, 2**53 + 2, 2**63, 0.1 + 0.2, 100.0, 1e-07, 1e-310,
        float("nan"), float("inf"), float("-inf")]

random.seed(20240610)
values = [float(x) for x in EDGE]
while len(values) < len(EDGE) + 300:
    x = struct.unpack("<d", struct.pack("<Q", random.getrandbits(64)))[0]
    if math.isfinite(x):
        values.append(x)
for _ in range(300):
    values.append(round(random.uniform(-1, 1) * 10 ** random.randint(-8, 20), random.randint(0, 17)))
for _ in range(100):
    values.append(random.randint(0, 10**6) / random.randint(1, 10**4))

with open("python_float_repr.tsv", "w") as f:
    f.write("# bits (hex)\trepr(float) by Python %d.%d.%d\n" % sys.version_info[:3])
    for x in values:
        f.write("%016x\t%r\n" % (bits(x), x))
