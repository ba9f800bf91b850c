# Writes measure_practice_rate.csv (200 practices x 12 months, as generate_measures writes a
# measure grouped by practice) and expected_percentiles.csv (numpy.percentile of the practices'
# rates per 1,000 with a non-zero denominator, method="linear"). Run once with numpy installed;
# the test reads the two files, not this script.
import random
import numpy as np

random.seed(12)
months = [f"2021-{m:02d}-01" for m in range(1, 13)]
rows = []
for mi, date in enumerate(months):
    # March 2021: only 5 practices report (a month the chart leaves out, as 5 <= 5).
    practices = range(1, 6) if mi == 2 else range(1, 201)
    for p in practices:
        d = random.choice([0, 3, 40, 150, 800, 2500, 9000]) if p % 17 == 0 else random.randint(50, 12000)
        n = 0 if d == 0 else random.randint(0, max(1, d // random.choice([5, 20, 60, 300])))
        rows.append((p, float(n), d, date))
with open("measure_practice_rate.csv", "w", newline="") as f:
    f.write("practice,visits,population,value,date\r\n")
    for p, n, d, date in rows:
        value = "" if d == 0 else repr(n / d)
        f.write(f"{p},{n!r},{d},{value},{date}\r\n")
qs = [10, 20, 30, 40, 50, 60, 70, 80, 90]
with open("expected_percentiles.csv", "w") as f:
    f.write("date,groups," + ",".join(f"p{q}" for q in qs) + "\n")
    for date in months:
        v = np.array([n / d * 1000 for p, n, d, dt in rows if dt == date and d != 0])
        if len(v) <= 5:
            f.write(f"{date},{len(v)}" + "," * len(qs) + "\n")
        else:
            f.write(f"{date},{len(v)}," + ",".join(repr(float(x)) for x in np.percentile(v, qs, method="linear")) + "\n")
