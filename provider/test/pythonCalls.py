"""Reads a Python program on stdin and prints, as JSON, how it uses one Pulumi package SDK.

Compiling it is the syntax check. Then, for the module alias the program imports the package
under (``import pulumi_<pkg> as x``), every call ``x.Name(...)`` with its keyword arguments
(nested calls, dicts, lists and enum members ``x.Enum.MEMBER`` described recursively) and every
attribute read on a variable bound to such a call (``c = x.Cluster(...)``; ``c.kubeconfig``).
The test compares these names with the schema the package serves.
"""
import ast
import json
import sys

source = sys.stdin.read()
module = sys.argv[1]
tree = ast.parse(compile(source, "example.py", "exec", ast.PyCF_ONLY_AST))

aliases = set()
for node in ast.walk(tree):
    if isinstance(node, ast.Import):
        aliases.update(a.asname or a.name for a in node.names if a.name == module)


def package_attr(node):
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
        return node.attr
    return None


def describe(node):
    if isinstance(node, ast.Call) and package_attr(node.func):
        return {"call": package_attr(node.func), "line": node.lineno, "args": len(node.args),
                "kwargs": {k.arg: describe(k.value) for k in node.keywords if k.arg}}
    if isinstance(node, ast.Dict):
        return {"dict": {k.value: describe(v) for k, v in zip(node.keys, node.values)
                         if isinstance(k, ast.Constant) and isinstance(k.value, str)}}
    if isinstance(node, (ast.List, ast.Tuple)):
        return {"list": [describe(e) for e in node.elts]}
    if isinstance(node, ast.Attribute) and package_attr(node.value):
        return {"enum": package_attr(node.value), "member": node.attr}
    return {"expr": ast.unparse(node)}


calls, bound, reads = [], {}, []
for node in ast.walk(tree):
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and package_attr(node.value.func):
        for target in node.targets:
            if isinstance(target, ast.Name):
                bound[target.id] = package_attr(node.value.func)
for node in ast.walk(tree):
    if isinstance(node, ast.Call) and package_attr(node.func):
        calls.append(describe(node))
for node in ast.walk(tree):
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
        reads.append({"variable": node.value.id, "resource": bound[node.value.id], "attr": node.attr, "line": node.lineno})

json.dump({"aliases": sorted(aliases), "calls": calls, "reads": reads}, sys.stdout)
