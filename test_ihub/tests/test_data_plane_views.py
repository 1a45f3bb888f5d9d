"""The data-plane screens show each user what they may act on, and no empty or technical parts."""

from lxml import etree

from .common import IHubCase


class TestDataPlaneViews(IHubCase):
    def arch(self, user, model, view_type="form"):
        views = self.env[model].with_user(user).get_views([(False, view_type)])
        return etree.fromstring(views["views"][view_type]["arch"])

    def test_clear_text_warning_is_for_managers_who_can_act_on_it(self):
        for model in ("ihub.integration", "ihub.credential"):
            with self.subTest(model=model):
                user_arch = etree.tostring(self.arch(self.ihub_user, model), encoding="unicode")
                manager_arch = etree.tostring(self.arch(self.manager, model), encoding="unicode")
                self.assertNotIn("ihub_encryption_key", user_arch)
                self.assertIn("ihub_encryption_key", manager_arch)

    def test_value_maps_page_editable_for_managers_and_hidden_when_empty_for_users(self):
        user_pages = self.arch(self.ihub_user, "ihub.integration").xpath("//page[@name]")
        user_pages = {page.get("name"): page for page in user_pages}
        self.assertNotIn("value_maps", user_pages)
        self.assertEqual(user_pages["value_maps_readonly"].get("invisible"), "not value_map_ids")
        manager_pages = self.arch(self.manager, "ihub.integration").xpath("//page/@name")
        self.assertIn("value_maps", manager_pages)
        self.assertNotIn("value_maps_readonly", manager_pages)

    def test_pages_with_nothing_to_show_are_hidden(self):
        pages = self.arch(self.ihub_user, "ihub.integration").xpath("//page[@name]")
        invisible = {page.get("name"): page.get("invisible") for page in pages}
        self.assertEqual(invisible["credentials"], "not credential_ids")
        self.assertEqual(invisible["external_ids"], "not mapper_count")

    def test_run_checkpoint_and_mapper_hash_only_in_debug_mode(self):
        # Odoo grants base.group_no_one only in a debug-mode request: check the group on the
        # view and that a manager outside debug mode does not get the field.
        for xmlid, field in (
            ("ihub.ihub_job_view_form", "checkpoint"),
            ("ihub.ihub_mapper_view_form", "external_hash"),
            ("ihub.ihub_mapper_view_list", "external_hash"),
        ):
            with self.subTest(view=xmlid):
                view = self.env.ref(xmlid)
                combined = view._get_combined_arch()
                groups = combined.xpath(f"//field[@name='{field}']/@groups")
                self.assertEqual(groups, ["base.group_no_one"])
                arch = self.arch(self.manager, view.model, view.type)
                self.assertFalse(arch.xpath(f"//field[@name='{field}']"))

    def test_dry_run_is_marked_on_the_run_and_in_run_lists(self):
        form = self.arch(self.ihub_user, "ihub.job")
        ribbon = form.xpath("//widget[@name='web_ribbon'][@title='Dry Run']")
        self.assertEqual(ribbon[0].get("invisible"), "not dry_run")
        runs_list = self.arch(self.ihub_user, "ihub.job", "list")
        self.assertEqual(runs_list.xpath("//field[@name='dry_run']/@optional"), ["show"])
        recent = self.arch(self.ihub_user, "ihub.integration").xpath(
            "//field[@name='recent_job_ids']//field[@name='dry_run']/@column_invisible"
        )
        self.assertEqual(recent, ["not parent.has_dry_run"], "no column for types without")
