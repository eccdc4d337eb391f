"""The HTML -> Kivy markup converter and the per-run font choice (no window needed)."""

from __future__ import annotations

from flashcards.ui import fonts
from flashcards.ui.html_markup import CLOZE_COLOR, SPEAKER, escape, plain_markup, to_blocks, to_markup


def test_inline_styles_become_markup():
    assert to_markup("<b>bold</b> <i>it</i> <u>u</u> H<sub>2</sub>O x<sup>2</sup>") == (
        "[b]bold[/b] [i]it[/i] [u]u[/u] H[sub]2[/sub]O x[sup]2[/sup]")


def test_kivy_markup_in_the_text_is_shown_literally():
    md = to_markup("[b]not bold[/b] [color=ff0000]red[/color] [ref=x]y[/ref] a &amp; b")
    assert md == "&bl;b&br;not bold&bl;/b&br; &bl;color=ff0000&br;red&bl;/color&br; &bl;ref=x&br;y&bl;/ref&br; a &amp; b"
    assert escape("[&]") == "&bl;&amp;&br;"


def test_entities_are_decoded_then_escaped():
    assert to_markup("1 &lt; 2 &gt; 0 &amp; [x]") == "1 < 2 > 0 &amp; &bl;x&br;"


def test_line_breaks_paragraphs_and_lists():
    assert to_markup("a<br>b<br><br>c") == "a\nb\n\nc"
    assert to_markup("<div>one</div><div>two</div>") == "one\ntwo"
    assert to_markup("x<ul><li>p</li><li>q</li></ul>y") == "x\n\u00a0\u00a0\u2022 p\n\u00a0\u00a0\u2022 q\ny"
    assert to_markup("<ol><li>p</li><li>q</li></ol>") == "\u00a0\u00a01. p\n\u00a0\u00a02. q"


def test_cloze_is_bold_and_coloured():
    assert to_markup('The <b class="cloze">[...]</b> sat') == (
        f"The [b][color={CLOZE_COLOR}]&bl;...&br;[/color][/b] sat")


def test_images_and_rules_are_blocks_of_their_own():
    blocks = to_blocks('front<hr id="answer">back <img src="cat.jpg"> after')
    assert [(b.kind, b.plain or b.src) for b in blocks] == [
        ("text", "front"), ("rule", ""), ("text", "back "), ("image", "cat.jpg"), ("text", " after")]


def test_sounds_become_speaker_refs_only_when_the_card_plays_them():
    md = to_markup("say [sound:a.mp3] and [sound:evil.mp3]", sounds=["a.mp3"])
    assert md == f"say [ref=sound:0][font=FCSymbols]{SPEAKER}[/font][/ref] and &bl;sound:evil.mp3&br;"


def test_font_runs_switch_per_script():
    assert fonts.runs("Hello Привет Γειά") == [("FCSans", "Hello Привет Γειά")]
    assert fonts.runs("kanji 漢字 and 한국어!") == [
        ("FCSans", "kanji "), ("FCCJK", "漢字"), ("FCSans", " and "), ("FCHangul", "한국어"), ("FCSans", "!")]
    assert fonts.runs("ok 😀👍🏽") == [("FCSans", "ok "), ("FCSymbols", "😀👍🏽")]
    assert plain_markup("日本 [b]") == "[font=FCCJK]日本[/font] &bl;b&br;"


def test_cmap_reader_matches_known_coverage():
    assert ord("Ж") in fonts.coverage("FCSans")
    assert ord("漢") not in fonts.coverage("FCSans")
    assert ord("漢") in fonts.coverage("FCCJK")
    assert 0xAC00 in fonts.coverage("FCHangul") and 0xD7A3 in fonts.coverage("FCHangul")
    assert 0x1F600 in fonts.coverage("FCSymbols")


def test_long_text_is_cut_into_blocks_without_losing_anything():
    words = " ".join(f"w{i}" for i in range(3000))
    blocks = to_blocks(f"<b>{words}</b>", max_chars=1000)
    assert len(blocks) > 10
    assert all(len(b.plain) <= 1000 for b in blocks)
    assert all(b.markup.startswith("[b]") and b.markup.endswith("[/b]") for b in blocks)
    assert " ".join(b.plain for b in blocks).split() == words.split()
    many_lines = "<br>".join(f"line {i}" for i in range(2000))
    blocks = to_blocks(many_lines, max_chars=500)
    assert "\n".join(b.plain for b in blocks).split("\n") == [f"line {i}" for i in range(2000)]


def test_unknown_tags_are_dropped_and_empty_input_is_nothing():
    assert to_markup("<span>a</span><script>b</script>") == "ab"
    assert to_blocks("") == []
