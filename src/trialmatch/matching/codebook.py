"""Small ints for strings (rule keys, leaf keys, question ids), so thousands of trials fit in numpy arrays."""

from __future__ import annotations

import threading


class Codebook:
    """Small ints for strings (rule keys, question ids), shared by every plan in the process. Code 0 is none."""

    def __init__(self, none: str | None = None) -> None:
        #: ``none``: a name that means "none" (code 0).
        self.code: dict[str, int] = {} if none is None else {none: 0}
        self.names: list[str] = [""]
        self._adding = threading.Lock()

    def __call__(self, name: str) -> int:
        code = self.code.get(name)
        if code is None:
            with self._adding:  # a server's threads may add names at once: one code per name, in order
                code = self.code.get(name)
                if code is None:
                    self.names.append(name)
                    code = self.code[name] = len(self.names) - 1
        return code

    def __len__(self) -> int:
        return len(self.names)
