#!/usr/bin/python3
# Turn the ARC test suite's validation vectors (tests/data/arc-test-suite, YAML) into
# case files for test_dkim_arc_suite.c, the way its runners feed an implementation:
# the message with LF -> CRLF, the scenario's txt-records as the DNS, a fixed time.
# usage: arc_suite_vectors.py YAML OUTDIR
# Writes OUTDIR/<case>.eml, OUTDIR/<case>.zone ("<name> <TXT value>" lines, the format
# testmsg_lookup reads) and OUTDIR/cases: a first line "count <tests in the YAML>", then
# "<case> <expected cv, lower case; '-' when the suite expects an empty result> <now>".
import os
import sys

import yaml

# After every t= in the suite (12345..12347); no vector has x=.
NOW = 1500000000

src, out = sys.argv[1], sys.argv[2]
with open(src, "rb") as f:
    scenarios = list(yaml.safe_load_all(f))
lines = []
for sc in scenarios:
    zone = "".join("%s %s\n" % (name, value.replace("\n", ""))
                   for name, value in sc["txt-records"].items())
    for name, test in sc["tests"].items():
        assert "/" not in name and " " not in name and not os.path.exists(
            os.path.join(out, name + ".eml")), name
        with open(os.path.join(out, name + ".eml"), "wb") as f:
            f.write(test["message"].replace("\n", "\r\n").encode())
        with open(os.path.join(out, name + ".zone"), "w") as f:
            f.write(zone)
        lines.append("%s %s %d\n" % (name, test["cv"].lower() or "-", NOW))
with open(os.path.join(out, "cases"), "w") as f:
    f.write("count %d\n" % len(lines))
    f.writelines(lines)
