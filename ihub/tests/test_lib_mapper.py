"""The argument handling of external-id mappers, without a database."""

from odoo.tests import BaseCase

from odoo.addons.ihub.lib.mapper import to_bindings, to_external_id, to_external_ids


class TestExternalIds(BaseCase):
    def test_strings_stay_and_integers_become_strings(self):
        self.assertEqual(to_external_id("A1 "), "A1 ")
        self.assertEqual(to_external_id(42), "42")
        self.assertEqual(to_external_id(-7), "-7")

    def test_values_that_would_bind_by_accident_are_refused(self):
        for bad in (None, "", True, False, 1.0, b"A1", ("A",)):
            with self.subTest(value=bad), self.assertRaises(ValueError):
                to_external_id(bad)

    def test_several_ids_are_distinct_and_in_order(self):
        self.assertEqual(to_external_ids(["b", 1, "a", "1", "b"]), ["b", "1", "a"])
        self.assertEqual(to_external_ids(iter([])), [])
        with self.assertRaises(ValueError):
            to_external_ids("abc")


class TestBindings(BaseCase):
    def test_aligned_lists_with_optional_hashes(self):
        self.assertEqual(
            to_bindings([("a", 1), (2, 2, "h")], int), (["a", "2"], [1, 2], [None, "h"])
        )

    def test_the_last_pair_of_an_external_id_or_a_record_wins(self):
        pairs = [("a", 1, "h1"), ("b", 2), ("a", 3, "h3"), ("c", 2)]
        # a -> 3 replaces a -> 1; c -> 2 replaces b -> 2.
        self.assertEqual(to_bindings(pairs, int), (["a", "c"], [3, 2], ["h3", None]))

    def test_records_are_turned_into_ids_by_the_caller(self):
        self.assertEqual(to_bindings([("a", "7")], int)[1], [7])

    def test_malformed_pairs_are_refused(self):
        for pair in (("a",), ("a", 1, "h", "x"), ("a", 1, 5)):
            with self.subTest(pair=pair), self.assertRaises(ValueError):
                to_bindings([pair], int)
