"""What a name no scope binds stands for: an import of torch, of another file
of the project (`from .blocks import Block`, `from .activations import *`) or
of our torchvision zoo, a builtin, or nothing known. A mixin of the Evaluator,
whose `imports`, `refs`, `foreign_refs`, `module` and `project` it reads."""
from __future__ import annotations

from ..shapes.signature import UNKNOWN
from .builtins import BUILTINS
from .scope import MISSING
from .values import ModuleRef, TorchRef


class ImportedNames:
    def unbound(self, name: str, scope=None):
        """A name no scope binds (eval() reads the scopes): an import (of torch,
        or of another file of the project), a builtin, or nothing we know.
        scope: the module scope the search ended in (another file's, maybe)."""
        imports = self.imports if scope is None or scope.imports is None else scope.imports
        refs = self.refs if imports is self.imports else self.foreign_refs.setdefault(id(imports), {})
        ref = refs.get(name)
        if ref is not None:
            return ref
        qual = imports.resolve(name)
        if qual is not None:
            ref = refs[name] = self._imported(qual, scope)
            return ref
        if imports.star_modules and self.project is not None and not name.startswith("_"):
            ref = self.star_imported(name, imports.star_modules, scope)
            if ref is not MISSING:
                refs[name] = ref
                return ref
        module = self.module if scope is None else scope
        while module.parent is not None:  # the module's own scope: a class body's or a function's hang below it
            module = module.parent
        if name in BUILTINS and not module.defines(name):  # (what a module defines is known from its start)
            ref = refs[name] = BUILTINS[name]
            return ref
        return UNKNOWN

    def star_imported(self, name: str, stars: list, scope):
        """What `from .activations import *` binds name to: the last such
        project file that defines it (as Python binds them) and exports it;
        MISSING when none does, or when a later one cannot be read (it may)."""
        from_file = None if scope is None else scope.file
        for mod in reversed(stars):
            target = self.project.module(mod, from_file)
            if target is None:
                return MISSING
            if target.defines("__all__"):
                exported = target.find("__all__")
                if not isinstance(exported, (list, tuple)):
                    return MISSING
                if name not in exported:
                    continue
            if target.defines(name):
                return self.module_attribute(target, name, f"{mod}.{name}")
        return MISSING

    def _imported(self, qual: str, scope):
        """What an import stands for: a name of a project file or of our torchvision zoo, else the library's."""
        project = self.project
        if project is not None and qual.startswith("torchvision.models"):
            return project.torchvision(qual, self.module_attribute)
        if project is not None and not qual.startswith("torch."):
            from_file = None if scope is None else scope.file
            module, _, attr = qual.rpartition(".")
            target = project.module(qual, from_file)  # `import models.blocks as mb`: the module itself
            if target is not None:
                return ModuleRef(target, qual)
            target = project.module(module, from_file) if module and module.strip(".") else None
            if target is not None:
                return self.module_attribute(target, attr, qual)
        return TorchRef(qual)

    def module_attribute(self, module, attr: str, qual: str):
        """A name of another file's module: defined there, imported there, or a submodule."""
        v = module.find(attr)
        if v is not MISSING:
            return v
        if attr in module.vars:  # imported there: resolved through that file's imports
            return self.unbound(attr, module)
        sub = self.project.module("." + attr, module.file) if module.file.endswith("__init__.py") else None
        return ModuleRef(sub, qual) if sub is not None else UNKNOWN
