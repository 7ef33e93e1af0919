"""Field encryption, split by purpose; import from the part you need.

- `sealing`: the keys, AES-GCM sealing and opening of one value, blind indexes.
- `columns`: what a model author writes (`EncryptedField`, `encrypted_column`,
  `blind_index_column`, `row_key_column`).
- `rotation`: `keys rotate`, over the models it is given.
- `purge`: clearing or deleting sensitive data so that no copy stays on disk.

What a model author writes (the detention module, later)::

    from coenforce.detentions.a_number import normalize_a_number
    from coenforce.security.crypto.columns import (
        EncryptedField, blind_index_column, encrypted_column, row_key_column)

    class Detention(Base):
        __tablename__ = "detentions"
        id: Mapped[int] = mapped_column(primary_key=True)
        row_key: Mapped[str] = row_key_column()
        a_number_enc: Mapped[str | None] = encrypted_column()
        a_number_bidx: Mapped[str | None] = blind_index_column()
        a_number = EncryptedField("a_number_enc", index="a_number_bidx", purpose="a_number",
                                  normalize=normalize_a_number)

    detention.a_number = "A-012-345-678"      # sealed at once; plaintext in memory only
    select(Detention).where(Detention.a_number.matches("12345678"))

Why two declarations and not one magic descriptor: the ciphertext is an
ordinary mapped column, so Alembic, the data inventory and a reviewer all see
it, and it can never be mistaken for plaintext (the `_enc` suffix). The
`EncryptedField` descriptor holds the plaintext in memory and is the only way
code reads or writes it.

Limits: a model's ciphertext columns and its row key must live in one table
(no joined-table inheritance), and a row key must never change (the values
sealed for it would then fail to decrypt, loudly).
"""
