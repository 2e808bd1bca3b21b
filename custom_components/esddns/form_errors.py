"""A form's errors: which field shows which message, and the values the message names."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FormErrors:
    """A form's errors, keyed by field, and the placeholders that name the offending values."""

    errors: dict[str, str] = field(default_factory=dict)
    placeholders: dict[str, str] = field(default_factory=dict)

    def add(self, field_name: str, key: str, **placeholders: str) -> None:
        """Show ``key`` on ``field_name`` (the first error of a field wins)."""
        self.errors.setdefault(field_name, key)
        for name, value in placeholders.items():
            self.placeholders.setdefault(name, value)

    def __or__(self, other: FormErrors) -> FormErrors:
        """Both checks' errors; a field keeps the first one."""
        return FormErrors(
            {**other.errors, **self.errors}, {**other.placeholders, **self.placeholders}
        )

    def __bool__(self) -> bool:
        return bool(self.errors)
