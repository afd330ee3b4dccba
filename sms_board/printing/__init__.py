"""Things the board prints on paper: PDFs drawn with fpdf2 (pure Python) in a font shipped in the package.

`fonts.unicode_pdf` is the page every PDF starts from (Welsh ŵ ŷ and Polish ł print in it);
`poster` lays out an area's poster for a shop window (`sms-board poster`, the Administration page).
"""
