#!/usr/bin/python3
# Turn the ARC test suite's vectors (tests/data/arc-test-suite, YAML) into case files
# for test_dkim_arc_suite.c, the way its runners feed an implementation: the message
# with LF -> CRLF, the scenario's txt-records as the DNS, a fixed time.
# usage: arc_suite_vectors.py validate|sign YAML OUTDIR
# Writes OUTDIR/<case>.eml, OUTDIR/<case>.zone ("<name> <TXT value>" lines, the format
# testmsg_lookup reads) and OUTDIR/cases: a first line "count <tests in the YAML>", then
#   validate: "<case> <expected cv, lower case; '-' when the suite expects none> <now>"
#   sign: "<case> <t> <srv-id> <d> <s> <i> <cv> <a> <bh>" from the scenario and the
#     expected ARC-Seal and ARC-Message-Signature ("0 - - -" when no set is expected),
#     with OUTDIR/<case>.key (the sealing key, PEM) and, when a set is expected,
#     OUTDIR/<case>.set.eml: the message with the suite's expected set on top.
import os
import sys

import yaml

# After every t= in the validation vectors (12345..12347); none has x=.
NOW = 1500000000

mode, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(src, "rb") as f:
    scenarios = list(yaml.safe_load_all(f))


def crlf(text):
    return text.replace("\n", "\r\n").encode()


def tags(value):
    pairs = (t.split("=", 1) for t in " ".join(value.split()).split(";") if t.strip())
    return {k.strip(): v.strip() for k, v in pairs}


def field(name, value):
    """One line: the suite's signing format (README: one space after each ';', none
    inside a tag's value), which its expected seals sign."""
    if name == "ARC-Authentication-Results":
        return "%s: %s\n" % (name, " ".join(value.split()))
    return "%s: %s\n" % (name, "; ".join(
        "%s=%s" % (k, "".join(v.split())) for k, v in tags(value).items()))


def write(name, ext, data, binary=True):
    with open(os.path.join(out, name + ext), "wb" if binary else "w") as f:
        f.write(data)


lines = []
for sc in scenarios:
    zone = "".join("%s %s\n" % (name, value.replace("\n", ""))
                   for name, value in sc["txt-records"].items())
    for name, test in sc["tests"].items():
        assert "/" not in name and " " not in name and not os.path.exists(
            os.path.join(out, name + ".eml")), name
        write(name, ".eml", crlf(test["message"]))
        write(name, ".zone", zone, binary=False)
        if mode == "validate":
            lines.append("%s %s %d\n" % (name, test["cv"].lower() or "-", NOW))
            continue
        write(name, ".key", sc["privatekey"], binary=False)
        line = "%s %d %s %s %s" % (name, test["t"], test["srv-id"], sc["domain"], sc["sel"])
        if not test["AS"].strip():
            lines.append(line + " 0 - - -\n")
            continue
        seal, ams = tags(test["AS"]), tags(test["AMS"])
        lines.append(line + " %s %s %s %s\n" % (seal["i"], seal["cv"], seal["a"], ams["bh"]))
        write(name, ".set.eml",
              crlf(field("ARC-Seal", test["AS"]) + field("ARC-Message-Signature", test["AMS"]) +
                   field("ARC-Authentication-Results", test["AAR"]) + test["message"]))
with open(os.path.join(out, "cases"), "w") as f:
    f.write("count %d\n" % len(lines))
    f.writelines(lines)
