"""The colour engine: grades as a layer over a shot's picture.

A grade is an ASC CDL (slope, offset, power per channel, then saturation) optionally followed
by a 3D LUT (:mod:`restoration.colour.cdl`, :mod:`restoration.colour.lut`,
:mod:`restoration.colour.grade`); grades are read and written as JSON, .cube and ASC XML
(.cdl/.cc/.ccc, :mod:`restoration.colour.cdl_files`) and learned from a colourist's graded
reference stills (:mod:`restoration.colour.fit`). Application is torch, on (T, C, H, W) frames,
on any device and dtype.
"""
