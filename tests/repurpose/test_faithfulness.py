"""Faithfulness check: numbers, names, quotes and links a variant adds to its source."""

from __future__ import annotations

import pytest

from omnipostr.repurpose.faithfulness import Flag, check, grounding_feedback
from omnipostr.repurpose.platforms import PLATFORMS, repair, split_thread
from omnipostr.repurpose.variant import Variant

# A realistic article (about 600 words) and rewrites of it, as an engine would write them.

ARTICLE = """\
Why We Moved Brightloom to Usage-Based Pricing

Eighteen months ago, Brightloom charged every customer a flat $49 per seat per month. It was simple, and it was wrong for most of our users. In March 2024 we switched to usage-based pricing, and this post explains what happened, what went badly and what we would do differently.

The problem with seats

Our analytics showed that 62% of seats were used less than once a week. Small teams paid for colleagues who logged in twice a quarter, and large customers negotiated discounts that made our list price meaningless. Churn among teams with fewer than ten people reached 4.1% a month, almost three times the rate of our larger accounts.

Maria Okafor, who leads our finance team, put it bluntly in a planning meeting: "We are charging people for chairs, not for the work they get done." That sentence became the brief for the project.

What we changed

We now charge for processed documents. The first 500 documents each month are free, and every further thousand costs $12. Annual plans get a 15% discount. We kept one exception: customers on our Enterprise plan can still buy seats, because their procurement teams asked for predictable invoices.

We ran the new model with 1,200 customers for three months before rolling it out to everyone. During that pilot, we sent every account a weekly estimate of its next bill. Nobody likes surprises on an invoice, and the estimates cut billing-related support tickets by a third.

How we told customers

We announced the change in three steps:
1. An email to every account owner 60 days before the switch.
2. A live webinar, hosted by our head of support, Priya Nair, that 640 customers attended.
3. A pricing calculator in the app, so people could compare their old and new bills.

The results

Twelve months after the switch, monthly recurring revenue is up 31%, from $2.4 million to $3.1 million. Net revenue retention rose from 98% to 117%. Churn among small teams fell to 1.9% a month. The number of paying customers grew from 3,800 to 5,150, mostly because the free tier lets people start without talking to sales.

Not everything improved. Revenue became harder to forecast, and our finance team now models three scenarios every quarter instead of one. Twenty-two customers, most of them agencies, left because their usage swings from month to month and they preferred a fixed bill. We also underestimated the engineering work: metering, invoicing and the usage dashboard took our team of six engineers almost five months, not the two we planned.

What we would do differently

First, build the usage dashboard before announcing anything. Customers trust a price they can watch. Second, give every existing customer a grandfathering period; we offered 90 days, and in hindsight six months would have avoided most of the angry emails. Third, talk to the agencies early. A simple monthly cap would probably have kept most of them.

David Chen, our CEO, summed up the year in our last all-hands: "Usage pricing did not make us more money by charging more. It made us more money by charging the right people." He also admitted that the rollout was "two months late and worth every day."

If you are thinking about the same move, start with your data. Look at how often people actually use what they pay for, then decide. You can read the full breakdown of our pricing on our site at https://brightloom.io/pricing, and our billing documentation at https://docs.brightloom.io/billing.

We will publish a follow-up in the autumn with a second year of numbers. If you have questions, write to us at hello@brightloom.io.
"""

FAITHFUL_X = """\
We used to charge $49 per seat per month. Then we looked at the data: 62% of seats were used less than once a week. 🧵 1/6

So in March 2024, Brightloom switched to usage-based pricing. Here's what happened. 2/6

The new model: the first 500 documents each month are free, then $12 per extra 1,000. Annual plans get 15% off. Enterprise customers can still buy seats. 3/6

The results after 12 months:
📈 MRR up 31% ($2.4M → $3.1M)
🔁 Net revenue retention: 98% → 117%
📉 Small-team churn: 4.1% → 1.9% a month
👥 Paying customers: 3,800 → 5,150
4/6

What went badly: forecasting got harder, 22 customers (mostly agencies) left, and the engineering work took almost 5 months instead of 2. 5/6

Our CEO David Chen: "Usage pricing did not make us more money by charging more. It made us more money by charging the right people."

Full breakdown: https://brightloom.io/pricing 6/6
"""

FAITHFUL_LINKEDIN = """\
We were charging people for chairs, not for the work they get done.

That's how Maria Okafor, who leads finance at Brightloom, described our old pricing. A flat $49 per seat per month, while 62% of seats were used less than once a week.

In March 2024 we switched to usage-based pricing:
• First 500 documents a month free
• $12 for every further thousand
• 15% off annual plans
• Seats still available on Enterprise

We piloted it with 1,200 customers for three months and sent every account a weekly bill estimate. Billing tickets dropped by a third.

Twelve months later:
→ MRR up 31%, from $2.4 million to $3.1 million
→ Net revenue retention from 98% to 117%
→ Small-team churn down from 4.1% to 1.9% a month
→ Paying customers up from 3,800 to 5,150

It wasn't all good. Forecasting got harder. Twenty-two customers, mostly agencies, left. And the build took six engineers almost five months, not two.

Three lessons if you're considering the same move:
1. Build the usage dashboard first. Customers trust a price they can watch.
2. Give existing customers a long grandfathering period. Our 90 days was too short.
3. Talk to agencies early. A monthly cap would probably have kept most of them.

Start with your data: how often do people actually use what they pay for?

#pricing #saas
"""

FAITHFUL_NEWSLETTER = """\
Subject: What Happened When We Dropped Per-Seat Pricing

Preview: MRR up 31%, churn halved, and 22 customers who walked away.

Hi there,

Eighteen months ago Brightloom charged a flat $49 per seat. In March 2024 we moved to usage-based pricing: 500 free documents a month, then $12 per thousand.

A year on, monthly recurring revenue grew from $2.4 million to $3.1 million, net revenue retention reached 117%, and churn among small teams fell to 1.9% a month.

It cost us too. Twenty-two customers, mostly agencies, left for a fixed bill, and the engineering work took almost five months instead of two.

Our advice: build the usage dashboard before you announce anything, give customers more than 90 days of grandfathering, and talk to your agencies early.

Read the full story: https://brightloom.io/pricing
"""

FAITHFUL_TIKTOK = """\
Hook: 62% of our seats were barely used. So we stopped charging for seats.

We used to charge forty-nine dollars per seat, every month.

Then we checked: most seats got used less than once a week.

So we switched to usage pricing. 500 documents free, then 12 dollars per thousand.

A year later? Revenue up 31 percent. Small-team churn down from 4.1% to 1.9%.

But 22 customers left, and the build took five months, not two.

Lesson one: build the dashboard first. People trust a price they can watch.

Caption: What happened when Brightloom dropped per-seat pricing 📊 #pricing #saas #startup
"""

FAITHFUL_SHORTS = """\
Title: How Brightloom Grew MRR 31% By Ditching Seats

Description: In March 2024, Brightloom replaced its $49-per-seat plan with usage-based pricing. 18 months ago, 62% of seats were used less than once a week. Here are the results and 3 lessons. Full breakdown: https://brightloom.io/pricing #pricing #SaaS

Step 1: Look at your data.
1️⃣ Build the usage dashboard first.
2️⃣ Give customers a grandfathering period — 6 months, not 90 days.
3️⃣ Talk to agencies early.

The pilot ran with 1200 customers for 3 months. Billing tickets fell by a third. Revenue went from $2.4m to $3.1m, and 22 agencies-heavy customers left. Six engineers. Five months. Worth every day, says CEO David Chen.

On Monday, the Brightloom team shared the numbers in an all-hands. Follow for part 2 this autumn!
"""

UNFAITHFUL_X = """\
We used to charge $59 per seat per month. Then we looked at the data: 62% of seats were used less than once a week. 🧵 1/5

So in March 2023, Brightloom switched to usage-based pricing after advice from Stripe and our investor Sequoia Capital. 2/5

The results after 12 months: MRR up 45% ($2.4M → $3.5M), and churn fell 3x. 3/5

Our CTO Sarah Lindqvist said: "Pricing is the most powerful lever a startup has." 4/5

Full breakdown: https://brightloom.io/pricing-2025 and https://growthcase.example.org/brightloom 5/5
"""

UNFAITHFUL_LINKEDIN = """\
Maria Okafor put it bluntly: "We were charging for seats nobody sat in."

In March 2024 Brightloom moved to usage-based pricing. The first 800 documents each month are free.

Within six months, revenue doubled and churn dropped to 1.2%. Gartner now calls it the model of the decade.

Learn more at brightloom.com
"""


def kinds(flags: list[Flag]) -> set[tuple[str, str]]:
    return {(f.kind, f.value) for f in flags}


# --- whole rewrites -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rewrite",
    [FAITHFUL_X, FAITHFUL_LINKEDIN, FAITHFUL_NEWSLETTER, FAITHFUL_TIKTOK, FAITHFUL_SHORTS],
    ids=["x", "linkedin", "newsletter", "tiktok", "shorts"],
)
def test_faithful_rewrites_raise_no_flag(rewrite):
    assert check(ARTICLE, rewrite) == []


@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_rule_repaired_copies_of_the_article_raise_no_flag(platform):
    # Cut, split, numbered, fields filled from the body: still only the source's facts.
    fixed = repair(platform, Variant(platform, [ARTICLE]))
    assert check(ARTICLE, fixed.text) == []


def test_a_numbered_thread_of_the_article_raises_no_flag():
    thread = split_thread("bluesky", ARTICLE)
    assert len(thread) > 5
    assert check(ARTICLE, "\n\n".join(thread)) == []


def test_unfaithful_thread_is_flagged_precisely():
    flags = check(ARTICLE, UNFAITHFUL_X)
    assert kinds(flags) == {
        ("number", "$59"),
        ("number", "2023"),
        ("number", "45%"),
        ("number", "$3.5M"),
        ("name", "Stripe"),
        ("name", "Sequoia Capital"),
        ("name", "Sarah Lindqvist"),
        ("quote", "Pricing is the most powerful lever a startup has."),
        ("link", "https://brightloom.io/pricing-2025"),
        ("link", "https://growthcase.example.org/brightloom"),
    }
    assert [f.kind for f in flags] == ["number"] * 4 + ["name"] * 3 + ["quote"] + ["link"] * 2
    by_value = {f.value: f.message for f in flags}
    assert by_value["45%"] == "The number “45%” does not appear in the source."
    assert by_value["Stripe"] == "“Stripe” is not mentioned in the source."
    assert by_value["https://brightloom.io/pricing-2025"] == (
        "The link https://brightloom.io/pricing-2025 is not in the source."
    )


def test_unfaithful_post_is_flagged_precisely():
    assert kinds(check(ARTICLE, UNFAITHFUL_LINKEDIN)) == {
        ("number", "800"),
        ("number", "1.2%"),
        ("quote", "We were charging for seats nobody sat in."),
        ("link", "brightloom.com"),
    }


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "variant"),
    [
        ("We signed 1,200 customers.", "1200 customers signed up"),
        ("We signed 1200 customers.", "1,200 customers"),
        ("Revenue reached $1.2 million.", "Revenue hit $1.2M"),
        ("Revenue reached $1,200,000.", "Revenue hit $1.2 million"),
        ("Revenue reached 1.2 million dollars.", "1.2m in revenue"),
        ("It took three weeks and twenty-five people.", "3 weeks, 25 people"),
        ("A dozen teams joined, twice as many as last year.", "12 teams joined, 2x last year"),
        ("Our team of six engineers", "6 engineers"),
        ("It was our fourth attempt.", "our 4th attempt"),
        ("Churn was 47.8% in the 1990s.", "Churn was about 48% in the 1990s"),
        ("Growth was 3.50 percent.", "Growth was 3.5%"),
        ("It ran 10-20 times.", "10–20 runs"),
        ("Half of the users left.", "50% of users left"),
        ("Open 24/7 since 2019.", "Open 24/7"),
        ("Tips:\n- one\n- two\n- three", "3 tips"),
    ],
)
def test_numbers_that_match_the_source(source, variant):
    assert check(source, variant) == []


@pytest.mark.parametrize(
    ("source", "variant", "flagged"),
    [
        ("We signed 1,200 customers.", "1,300 customers", "1,300"),
        ("Revenue reached $5 million.", "Revenue hit $5 billion", "$5 billion"),
        ("Churn was 47.8%.", "Churn was 50%", "50%"),
        ("It launched in 2024.", "It launched in 2025", "2025"),
        ("Twelve months later it paid off.", "13 months later it paid off", "13"),
        ("Twice as fast.", "3x faster", "3x"),
        ("Support all week.", "Support 24/7", "24/7"),
        ("Our new network.", "Our new 5G network", "5G"),
        ("The price is $49.", "The price is €59", "€59"),
    ],
)
def test_numbers_absent_from_the_source_are_flagged(source, variant, flagged):
    flags = check(source, variant)
    assert [(f.kind, f.value) for f in flags] == [("number", flagged)]


def test_thread_numbers_list_markers_keycaps_and_tags_are_not_claims():
    variant = "1/ Short intro\nStep 2: more 2/4\n3. A point\n4️⃣ Last one\n#Top10 @user99\n(3/4)"
    assert check("Intro, more, a point, last one.", variant) == []


# --- names ----------------------------------------------------------------------------------


def test_new_names_are_flagged_and_known_ones_are_not():
    source = "Maria Okafor leads finance at Brightloom. The Bank of America pilot ran in May."
    variant = (
        "Brightloom's finance lead, Maria Okafor, worked with Bank of America. "
        "Jane Doe from Globex joined later."
    )
    assert kinds(check(source, variant)) == {("name", "Jane Doe"), ("name", "Globex")}


def test_name_rules_for_sentence_starts_boilerplate_and_dates():
    source = "We moved to usage pricing and it worked."
    variant = (
        "Honestly? Pricing matters. Follow for more! Thread below.\n"
        "We moved on Monday in March, and I think it worked. PS: it worked."
    )
    assert check(source, variant) == []
    flags = check(source, "It worked, says Dr. Sarah Lee.")
    assert kinds(flags) == {("name", "Sarah Lee")}


def test_headlines_acronyms_and_possessives():
    source = "Monthly recurring revenue grew at Acme after the iPhone launch."
    ok = "Title: How Acme's MRR Grew After The iPhone Launch"
    assert check(source, ok) == []
    flags = check(source, "Title: How Acme Beat NASA And Built A Better Android Phone")
    assert kinds(flags) == {("name", "NASA")}
    assert kinds(check(source, "Acme grew, says OpenAI.")) == {("name", "OpenAI")}


# --- quotes ---------------------------------------------------------------------------------


def test_quotes_must_appear_word_for_word():
    source = 'She said: "We are charging people for chairs, not for the work they get done."'
    assert check(source, "“We’re” aside, she said “we are charging people for chairs”") == [
        Flag("quote", "We’re", "The quote “We’re” is not in the source.")
    ]
    assert (
        check(source, "«We are  charging people for CHAIRS, not for the work they get done»") == []
    )
    assert check(source, "‘We are charging people … for the work they get done.’") == []
    assert check(source, '"We are charging [customers] for the work they get done."') == []
    flags = check(source, '"We are charging people for desks."')
    assert kinds(flags) == {("quote", "We are charging people for desks.")}
    # The parts around "…" must come in the source's order
    assert check(source, "“for the work … charging people”") != []


# --- links ----------------------------------------------------------------------------------


def test_links_must_come_from_the_source_or_the_allowed_list():
    source = "Pricing: https://www.brightloom.io/pricing/ and docs at docs.brightloom.io/billing"
    ok = (
        "See brightloom.io/pricing?utm_source=x and https://docs.brightloom.io/billing/. "
        "More at brightloom.io"
    )
    assert check(source, ok) == []
    flags = check(source, "New: https://brightloom.io/careers and rival.com")
    assert kinds(flags) == {("link", "https://brightloom.io/careers"), ("link", "rival.com")}
    allowed = check(
        source, "New: https://brightloom.io/careers", allowed_links=["brightloom.io/careers"]
    )
    assert allowed == []


def test_allowed_terms_extend_the_source():
    source = "We moved to usage pricing."
    variant = "We moved to usage pricing. Join the Brightloom Club at brightloom.io/club"
    assert check(source, variant) != []
    assert (
        check(source, variant, allowed_terms=["Join the Brightloom Club at brightloom.io/club"])
        == []
    )


# --- feedback -------------------------------------------------------------------------------


def test_grounding_feedback_lists_what_to_fix():
    assert grounding_feedback([]) == ""
    feedback = grounding_feedback(check(ARTICLE, UNFAITHFUL_X))
    lines = feedback.splitlines()
    assert lines[0].startswith("Some details are not in the source.")
    assert len(lines) == 12
    assert (
        "- The number “45%” is not in the source: remove it or use the source's own figure."
        in lines
    )
    assert "- “Sarah Lindqvist” is not mentioned in the source: remove it." in lines
    assert any(line.startswith("- The quote “Pricing is the most powerful lever") for line in lines)
    assert (
        "- The link https://growthcase.example.org/brightloom is not in the source: remove it."
        in lines
    )
