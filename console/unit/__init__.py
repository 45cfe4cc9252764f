"""A responsible unit's work queue: the tickets it holds, their deadlines and warnings, and
its steps (签收 联系群众 进展 办结 退单 延期申请 督办回复) from the keyboard."""
