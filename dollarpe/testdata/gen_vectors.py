# Regenerates canonical_vectors.json, the Python cross-check of Canonicalize
# and Sign: python3 gen_vectors.py > canonical_vectors.json
# Tests read the JSON file; they never run Python.
import base64, hashlib, hmac, json

KEY = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
SECRET = b"test-secret-do-not-use"
TS = 1735689600

inputs = [
    '{}',
    '{"note":"Café"}',
    '{"note":"Caf\\u00e9"}',
    '{"b":1,"a":{"d":[3,2,{"z":null,"y":true}],"c":"x"},"A":false}',
    '{ "name" : "Ravi Kumar", "tags" : [ "a" , "b" ] }',
    '{"emoji":"😀 ok","hindi":"नमस्ते","cjk":"漢字"}',
    '{"html":"<a href=\\"x\\">&amp;</a>","slash":"a/b\\/c"}',
    '{"ctl":"line1\\nline2\\r\\t\\b\\f\\u0001\\u001f\\u007f end"}',
    '{"int":42,"neg":-7,"zero":0,"negzero":-0,"big":123456789012345678901234567890}',
    '{"f1":1.5,"f2":1.50,"f3":1E5,"f4":1e-7,"f5":0.1,"f6":1e16,"f7":1e15,"f8":0.0001,"f9":0.00001,"f10":-0.0,"f11":2.5e-5,"f12":123456.789e3,"f13":1.7976931348623157e308,"f14":5e-324}',
    '{"dup":1,"dup":2}',
    '{"é":1,"e":2,"z":3,"😀":4,"\\uffff":5,"Z":6}',
    '{"lone":"\\ud800x","pair":"\\ud83d\\ude00"}',
    '[1,"two",{"3":4}]',
    '"just a string"',
    '{"amount":"100.50","nested":{"deeper":{"deepest":{"k":"v"}}}}',
    '\ufeff{"bom":true}',
]

out = []
for text in inputs:
    body = text.encode("utf-8")
    obj = json.loads(body)
    canon = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    msg = (KEY + "|" + str(TS) + "|" + canon).encode("utf-8", "surrogatepass")
    sig = base64.b64encode(hmac.new(SECRET, msg, hashlib.sha256).digest()).decode()
    out.append({"input": text, "canonical": canon, "signature": sig})
print(json.dumps({"key": KEY, "secret": SECRET.decode(), "timestamp": TS, "vectors": out}, indent=1, ensure_ascii=True))
