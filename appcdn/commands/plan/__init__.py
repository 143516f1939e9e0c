"""``appcdn plan``: the program under Pulumi's mock engine (``mock_engine``) and the plan's text
(``resource_text``, ``table_text``); ``any_program`` plans a program that only composes the components."""
