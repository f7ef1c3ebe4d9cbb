"""The proof archive for a référé: export a watch's attempts as a verifiable ZIP, and verify one.

`export` streams the recorded attempts into a ZIP (French PDF journal, numbered capture PDFs, the image
files, a manifest with every file hash and every chain record); `verify` re-checks such a ZIP with nothing
but the archive itself.
"""
