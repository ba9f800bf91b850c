//! Text for the bitmap charts, laid out and rasterised with `ab_glyph` from the carried font.
//!
//! plotters 0.3.7's own `ab_glyph` text path places each glyph's bounding box at the pen
//! position, ignoring its left side bearing, so digits such as `1` drift into their neighbours
//! (`Jan 20 19`). [`GlyphText`] wraps the bitmap backend and draws text itself: pen advance,
//! kerning and bearings as the font says, anchors and 90° rotations as plotters specifies.

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::prelude::BitMapBackend;
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

type BitMapError = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

/// A bitmap backend whose text is drawn with `font`.
pub struct GlyphText<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> GlyphText<'a> {
    /// Wraps `inner`, drawing text with `font`.
    pub fn new(inner: BitMapBackend<'a>, font: FontRef<'static>) -> Self {
        Self { inner, font }
    }

    /// Advance width and line height of `text` at `size` pixels, and the ascent.
    fn layout(&self, text: &str, size: f64) -> (f32, f32, f32) {
        let font = self.font.as_scaled(PxScale::from(size as f32));
        let mut width = 0.0;
        let mut prev = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                width += font.kern(p, id);
            }
            width += font.h_advance(id);
            prev = Some(id);
        }
        (width, font.ascent() - font.descent(), font.ascent())
    }
}

impl DrawingBackend for GlyphText<'_> {
    type ErrorType = BitMapError;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let (w, h, _) = self.layout(text, style.size());
        Ok((w.ceil() as u32, h.ceil() as u32))
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let colour = style.color();
        if colour.alpha == 0.0 {
            return Ok(());
        }
        let size = style.size();
        let (width, height, ascent) = self.layout(text, size);
        // Text-local coordinates: the layout box's top left at (dx, dy) from the anchor.
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let scale = PxScale::from(size as f32);
        let font = self.font.as_scaled(scale);
        let mut pen = dx;
        let mut prev = None;
        let mut pixels: Vec<(i32, i32, f32)> = Vec::new();
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                pen += font.kern(p, id);
            }
            let glyph = id.with_scale_and_position(scale, point(pen, dy + ascent));
            if let Some(outline) = self.font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    let x = bounds.min.x as i32 + gx as i32;
                    let y = bounds.min.y as i32 + gy as i32;
                    pixels.push((x, y, coverage));
                });
            }
            pen += font.h_advance(id);
            prev = Some(id);
        }
        for (x, y, coverage) in pixels {
            if coverage <= 0.0 {
                continue;
            }
            let (x, y) = transform.transform(x, y);
            self.inner.draw_pixel(
                (pos.0 + x, pos.1 + y),
                BackendColor {
                    alpha: colour.alpha * f64::from(coverage.min(1.0)),
                    rgb: colour.rgb,
                },
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;
    use plotters::style::text_anchor::Pos;
    use plotters::style::FontTransform;

    static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

    /// Ink bounding box (min x, min y, max x, max y) of `text` drawn at (60, 100).
    fn ink(text: &str, pos: Pos, transform: FontTransform) -> (u32, u32, u32, u32) {
        let (w, h) = (200u32, 200u32);
        let mut buf = vec![255u8; (w * h * 3) as usize];
        {
            let font = FontRef::try_from_slice(FONT).unwrap();
            let mut backend = GlyphText::new(BitMapBackend::with_buffer(&mut buf, (w, h)), font);
            let style = TextStyle::from(("sans-serif", 40).into_font())
                .pos(pos)
                .transform(transform)
                .color(&BLACK);
            backend.draw_text(text, &style, (60, 100)).unwrap();
            backend.present().unwrap();
        }
        let mut bbox = (u32::MAX, u32::MAX, 0, 0);
        for y in 0..h {
            for x in 0..w {
                if buf[((y * w + x) * 3) as usize] < 128 {
                    bbox = (bbox.0.min(x), bbox.1.min(y), bbox.2.max(x), bbox.3.max(y));
                }
            }
        }
        bbox
    }

    #[test]
    fn glyphs_keep_their_left_side_bearing() {
        // DejaVu Sans' `1` starts about 0.11 em (4 px here) right of the pen; plotters' own
        // path drew it at the pen.
        let (x0, y0, _, y1) = ink("1", Pos::new(HPos::Left, VPos::Top), FontTransform::None);
        assert!(x0 >= 60 + 3, "ink starts at {x0}");
        // Top anchor: the digit sits below the anchor, inside the line box.
        assert!(y0 > 100 && y1 < 100 + 48, "{y0}..{y1}");
    }

    #[test]
    fn anchors_and_rotation() {
        let (x0, _, x1, _) = ink("10", Pos::new(HPos::Center, VPos::Top), FontTransform::None);
        assert!(x0 < 60 && x1 > 60, "centred ink {x0}..{x1}");
        // Rotated a quarter turn anticlockwise (y-axis labels): the text runs upwards from the
        // anchor, so the ink is above it and its height is the text's width.
        let (x0, y0, x1, y1) = ink(
            "10",
            Pos::new(HPos::Left, VPos::Top),
            FontTransform::Rotate270,
        );
        assert!(y1 <= 100 && y0 < 100 - 30, "{y0}..{y1}");
        assert!(x1 - x0 < y1 - y0, "{x0}..{x1} x {y0}..{y1}");
    }
}
