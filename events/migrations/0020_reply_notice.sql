-- Hosts are told when an attendee declines in their calendar and the event's rule is
-- `notify` (replies.py): a mail to each host partner, through the partner mail outbox.
ALTER TABLE partner_mail DROP CONSTRAINT partner_mail_kind_check;
ALTER TABLE partner_mail ADD CONSTRAINT partner_mail_kind_check
    CHECK (kind IN ('password-reset', 'cohost-invitation', 'calendar-decline'));
