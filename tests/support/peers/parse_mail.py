#!/usr/bin/python3
"""Parses one captured message with Python's email package, the way a mail client would, and
prints what a reader sees as JSON: {"headers": {name: decoded value}, "defects": [...],
"content_type", "parts": [{"content_type", "charset", "cte", "content"}]}.

    parse_mail.py FILE.eml
"""
import email
import email.policy
import json
import sys


def main():
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    out = {"headers": {}, "defects": [str(d) for d in msg.defects],
           "content_type": msg.get_content_type(), "parts": []}
    for name in msg.keys():
        out["headers"][name] = str(msg[name])
    for part in msg.walk():
        if part.is_multipart():
            out["defects"] += [str(d) for d in part.defects]
            continue
        out["defects"] += [str(d) for d in part.defects]
        out["parts"].append({"content_type": part.get_content_type(),
                             "charset": part.get_content_charset(),
                             "cte": part["Content-Transfer-Encoding"],
                             "content": part.get_content()})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
